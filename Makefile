# origin-python: `make` builds ./python, `make test` tests it.
# Everything is built under build/ (ignored by git); see README.md.

SHELL := /bin/bash
T := tools/timed
PREFIX ?=

.PHONY: all deps fetch src build debug stock test test-full fuzz patches prepare install bench rebase clean distclean ft asan shared dist differential

# BUILD=1 is make rebase's "and build it"; the tools read BUILD from the
# environment as the build directory, so do not pass that one on.
ifeq ($(origin BUILD),command line)
unexport BUILD
endif
# UPSTREAM_VERSION picks the release for make rebase only; everything else
# builds the release upstream.lock names as its UPSTREAM_VERSION.
ifeq ($(origin UPSTREAM_VERSION),command line)
ifneq ($(filter-out rebase,$(or $(MAKECMDGOALS),all)),)
$(error UPSTREAM_VERSION=$(UPSTREAM_VERSION) is for `make rebase UPSTREAM_VERSION=X` only; make $(or $(MAKECMDGOALS),all) builds the release in upstream.lock)
endif
endif

all: build

deps:
	@$(T) deps tools/deps

# The verified upstream tarball, build/downloads/ (see tools/fetch): apt's
# Debian source package, else python.org's release.  UPSTREAM_TARBALL=path
# uses a copy you have; UPSTREAM_URL=address downloads from there instead
# (a mirror; apt is not tried).  Both work from the environment or the
# command line (make exports command-line variables to the tools).
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

# The other configurations make test runs: free-threaded, and pydebug with
# ASan + UBSan (each built once, kept in build/ft and build/asan).
# --enable-shared: make shared (not part of make test; see README).
ft: src
	@$(T) build-ft tools/build ft

asan: src
	@$(T) build-asan tools/build asan

shared: src
	@$(T) build-shared tools/build shared

test: build debug ft asan stock
	@$(T) tests tools/run-tests

# The whole upstream regression suite on the fork and on stock (slow: each
# run takes 15-25 minutes on 2 cores); prints the tests failing only on the
# fork and fails if there are any.  TESTS="test_x ..." narrows it.
# TRACKING=SPEC runs the fork with PYTHONCOROORIGIN=SPEC instead and
# compares it with the last stock run.
test-full: build stock
	@$(T) test-full tools/test-full $(if $(TRACKING),--tracking $(TRACKING))

# The differential test against stock (tools/differential): generated
# asyncio programs run on the fork, with tracking off and on, and on stock
# of the same tarball, and must print the same (the fork's own report
# blocks aside).  SECONDS=N runs for N seconds (default 60) and prints
# "N programs" and each failure with its seed; SEED=S prints program S and
# runs it again.  JOBS=N workers (default 2).
differential: build stock
	@$(T) differential build/release/python tools/differential --jobs $(or $(JOBS),2) \
	    $(if $(SEED),--seed $(SEED),--seconds $(or $(SECONDS),60))

# Export the prepared tree's commits to patches/.
patches:
	@tools/export-patches

# Re-make build/src from patches/ (FORCE=1 discards unexported work).
prepare: fetch
	@$(T) prepare tools/prepare

# make install PREFIX=dir [DESTDIR=stage], as in CPython: the files go
# under stage/dir (DESTDIR for packages and images; absolute PREFIX) and
# record dir, where the tree works once copied.  See tools/install.
install: build
	@test -n "$(PREFIX)" || { echo "usage: make install PREFIX=/path/to/dir [DESTDIR=/staging/dir]" >&2; exit 2; }
	@DESTDIR="$(DESTDIR)" $(T) install tools/install "$(PREFIX)"

# Move to another upstream release (one listed in upstream.lock): fetch and
# verify it, apply patches/series with zero fuzz in build/rebase-X,
# regenerate generated files, stop at the first patch that needs a human.
#   make rebase UPSTREAM_VERSION=3.13.5 [BUILD=1] [FORCE=1] [CONTINUE=1]
# BUILD=1 also builds build/rebase-X-release and runs our tests there.
# See tools/rebase.
rebase: deps
	@$(T) rebase tools/rebase $(if $(filter 1,$(BUILD)),--build) $(if $(filter 1,$(FORCE)),--force) $(if $(filter 1,$(CONTINUE)),--continue) "$(UPSTREAM_VERSION)"

# make rebase UPSTREAM_VERSION=X BUILD=1 for every release upstream.lock
# lists besides the fork's base (today 3.13.5): the series applied,
# built, and test_coro_origin and test_coroutines run there.  About 7
# minutes per release on 2 cores (build/logs/rebase-X-*.log).
.PHONY: test-rebase
test-rebase: deps
	@. tools/common.sh && for v in $$UPSTREAM_VERSIONS; do \
	    [ "$$v" = "$$UPSTREAM_DEFAULT_VERSION" ] || $(T) test-rebase-$$v tools/rebase --build "$$v" || exit 1; \
	done

# Fuzz the spec parser for FUZZ_SECONDS with libFuzzer (fuzz/, tools/fuzz);
# the working corpus and any crash are kept under build/fuzz/.
FUZZ_SECONDS ?= 60
fuzz: build
	@$(T) fuzz tools/fuzz --seconds "$(FUZZ_SECONDS)"

bench: build stock
	@$(T) bench tools/bench --stock build/stock/python --fork build/release/python $(BENCH_ARGS)

# A relocatable tarball of the release build in python-build-standalone's
# install_only layout, with its .sha256, metadata and uv entry, in
# build/dist/ (see tools/dist, docs/CI.md).  DIST_URL_BASE=URL makes the uv
# entry's url absolute.
dist: build
	@$(T) dist tools/dist

clean:
	rm -rf build/release build/debug build/stock build/ft build/asan build/shared build/test-results build/test-full build/dist build/.dist-* python

distclean:
	@if [ -d build/src/.git ] && ! tools/prepare --if-needed >/dev/null 2>&1; then \
	    echo "build/src holds work not exported to patches/; run make patches first" >&2; exit 1; fi
	rm -rf build python
