# origin-python: `make` builds ./python, `make test` tests it.
# Everything is built under build/ (ignored by git); see README.md.

SHELL := /bin/bash
T := tools/timed
PREFIX ?=

.PHONY: all deps fetch src build debug stock test patches prepare install bench clean distclean

all: build

deps:
	@$(T) deps tools/deps

fetch: deps
	@$(T) fetch tools/fetch

# The prepared tree, re-made only when patches/ changed (and never over
# work that was not exported).
src: fetch
	@$(T) prepare tools/prepare --if-needed

build: src
	@$(T) build-release tools/build release
	@ln -sfn build/release/python python
	@./python -VV

debug: src
	@$(T) build-debug tools/build debug

stock: fetch
	@tools/prepare --if-needed >/dev/null
	@$(T) build-stock tools/build stock

test: build debug
	@$(T) tests tools/run-tests

# Export the prepared tree's commits to patches/.
patches:
	@tools/export-patches

# Re-make build/src from patches/ (FORCE=1 discards unexported work).
prepare: fetch
	@$(T) prepare tools/prepare

install: build
	@test -n "$(PREFIX)" || { echo "usage: make install PREFIX=/path/to/dir" >&2; exit 2; }
	@$(T) install tools/install "$(PREFIX)"

bench: build stock
	@$(T) bench tools/bench --stock build/stock/python --fork build/release/python $(BENCH_ARGS)

clean:
	rm -rf build/release build/debug build/stock build/test-results python

distclean:
	@if [ -d build/src/.git ] && ! tools/prepare --if-needed >/dev/null 2>&1; then \
	    echo "build/src holds work not exported to patches/; run make patches first" >&2; exit 1; fi
	rm -rf build python
