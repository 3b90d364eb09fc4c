# Shared by the tools/ scripts: paths and messages.  Source it; do not run.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
LOGS=$BUILD/logs
DOWNLOADS=$BUILD/downloads
PRISTINE=$BUILD/pristine        # unpacked upstream tarball, never edited
SRC=$BUILD/src                  # prepared tree: git repo, patches applied
UPSTREAM_TAG=upstream

# shellcheck source=../upstream.lock
. "$ROOT/upstream.lock"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# run_logged LOGFILE CMD...: run CMD with all output in LOGFILE; on failure
# show where the log is and its last lines, then fail.
run_logged() {
    local log=$1; shift
    mkdir -p "$(dirname "$log")"
    if ! "$@" > "$log" 2>&1; then
        printf '\nerror: %s failed\n' "$*" >&2
        printf 'full log: %s\n' "$log" >&2
        if grep -qE '(error|Error [0-9]+|undefined reference)' "$log"; then
            printf 'first errors:\n' >&2
            grep -E '(error|Error [0-9]+|undefined reference)' "$log" | grep -v -- '-Werror' |
                head -n 15 | cut -c1-300 | sed 's/^/    /' >&2
        fi
        printf 'last lines:\n' >&2
        tail -n 25 "$log" | cut -c1-300 | sed 's/^/    /' >&2
        exit 1
    fi
}

# Seconds since the epoch, for stage timings.
now() { date +%s; }
