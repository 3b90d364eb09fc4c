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
UPSTREAM_DEFAULT_VERSION=$UPSTREAM_VERSION

# select_upstream VERSION: set the UPSTREAM_* and DEBIAN_* variables the
# tools read for one release named in upstream.lock (UPSTREAM_VERSIONS).
# The default release uses build/pristine and build/apt; another release
# X gets build/pristine-X and build/apt-X, so nothing of the default
# release's trees is touched.
select_upstream() {
    local v=$1 key
    case " $UPSTREAM_VERSIONS " in
        *" $v "*) ;;
        *) die "upstream.lock does not list CPython $v (it lists: $UPSTREAM_VERSIONS)" ;;
    esac
    key=${v//./_}
    UPSTREAM_VERSION=$v
    eval "UPSTREAM_SHA256=\${UPSTREAM_SHA256_$key:-}"
    eval "UPSTREAM_SIZE=\${UPSTREAM_SIZE_$key:-}"
    eval "DEBIAN_VERSION=\${DEBIAN_VERSION_$key:-}"
    eval "DEBIAN_SUITES=\${DEBIAN_SUITES_$key:-}"
    [ -n "$UPSTREAM_SHA256" ] && [ -n "$DEBIAN_VERSION" ] && [ -n "$DEBIAN_SUITES" ] ||
        die "upstream.lock: incomplete entry for $v (UPSTREAM_SHA256_$key, DEBIAN_VERSION_$key, DEBIAN_SUITES_$key)"
    UPSTREAM_TARBALL_NAME=Python-$v.tar.xz
    UPSTREAM_TOPDIR=Python-$v
    DEBIAN_ORIG=${DEBIAN_SOURCE}_$v.orig.tar.xz
    if [ "$v" = "$UPSTREAM_DEFAULT_VERSION" ]; then
        PRISTINE=$BUILD/pristine PRISTINE_STAMP=$BUILD/pristine.sha256 APT_DIR=$BUILD/apt
    else
        PRISTINE=$BUILD/pristine-$v PRISTINE_STAMP=$BUILD/pristine-$v.sha256 APT_DIR=$BUILD/apt-$v
    fi
}

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

select_upstream "$UPSTREAM_DEFAULT_VERSION"
