# tfaas: the two commands a user needs are `make run` and `make test`.
# This Makefile only wraps scripts/ and CMake; the build itself is CMakeLists.txt.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 300
CI_FUZZ_SECONDS ?= 10
JOBS       ?= $(shell nproc)
STATE      ?= .tfaas
LISTEN     ?= 127.0.0.1:3233

.PHONY: all deps build asan tsan fuzz-build fuzz test test-tsan test-pg test-fast run cluster bench soak clean help

all: build

help:
	@echo "make          build build/bin/tfaas and build/bin/tfaas-enclave"
	@echo "make run      build and start tfaas serve on $(LISTEN) with the examples deployed"
	@echo "make test     build (plain, ASan+UBSan and TSan) and run the whole test suite on each"
	@echo "make test-tsan build $(TSAN_BUILD)/ (ThreadSanitizer) and run the whole suite there"
	@echo "make test-pg  the store's tests on PostgreSQL (a throwaway cluster from Debian's packages)"
	@echo "make fuzz     run each libFuzzer target for FUZZ_SECONDS (default $(FUZZ_SECONDS))"
	@echo "make cluster  three tfaas nodes on a throwaway PostgreSQL behind HAProxy (Ctrl-C stops)"
	@echo "make bench    run the benchmark against workerd (see docs/benchmarks.md)"
	@echo "make soak     hold 80% of peak throughput for SOAK_SECONDS (default $(SOAK_SECONDS))"

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTFAAS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# ThreadSanitizer (gcc): host, Duktape enclave, key services and unit tests
# instrumented; V8's libnode is not, and scripts/tsan.supp names only it.
tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTFAAS_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)

# The libFuzzer targets of tests/fuzz (clang, ASan+UBSan); docs/reliability.md.
fuzz-build: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTFAAS_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The whole suite: unit, integration, hostile and compatibility tests on the
# release build, then the same suite on the ASan+UBSan build and on the
# ThreadSanitizer build (without the PostgreSQL repeats, label pg: the store
# code they run is the same, and TSan has run it on SQLite), then each fuzz
# target for CI_FUZZ_SECONDS on its seed corpus.
test: build asan tsan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE pg
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)

# The whole suite on the ThreadSanitizer build alone (part of `make test`;
# what it allows for TSan's slowness is in docs/reliability.md, Sanitizers).
test-tsan: tsan
	@cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE pg

# The PostgreSQL store's tests alone (label pg): the store unit tests and a
# representative set of suites against a throwaway cluster each
# (scripts/pg-test.sh; part of `make test` on the plain and ASan builds).
test-pg: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L pg

# Release build only, for a quick edit-test loop.
test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

run: build
	@scripts/run.sh "$(BUILD)/bin" "$(STATE)" "$(LISTEN)"

# Three nodes on one PostgreSQL behind HAProxy (examples/cluster/run.sh).
cluster: build
	@TFAAS_BIN="$(abspath $(BUILD))/bin" examples/cluster/run.sh

bench: build
	@bench/run.sh "$(BUILD)/bin"

# Soak: 80% of peak warm-hello throughput for SOAK_SECONDS; errors, p99 drift
# and memory growth into bench/results/soak.md (docs/reliability.md).
soak: build
	@mkdir -p bench/results && tmp=$$(mktemp -d) && \
	  node bench/soak.mjs --bin "$(BUILD)/bin" --tmp "$$tmp" --seconds $(SOAK_SECONDS) \
	    --out bench/results/soak.json --md bench/results/soak.md; rc=$$?; rm -rf "$$tmp"; exit $$rc

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
