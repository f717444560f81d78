# SPDX-License-Identifier: MIT
# The front door. `make run` and `make test` install what is missing,
# configure, build, and run; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CONF       ?= conf/duet.json
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 30
SUMMARY    := $(CURDIR)/$(BUILD)/ctest-summary.log
CMAKE_FLAGS ?=

# pipefail: a test run piped through tee still fails the target
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all deps build run test unit asan e2e fuzz fuzz-smoke bench format lint clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/app/duet -c $(CONF)

# The whole suite: unit tests, the same plus end-to-end tests under
# ASan+UBSan, end-to-end tests against the real binary (one under valgrind),
# then a short fuzz run when clang is there.
test:
	@scripts/install-deps.sh test
	@mkdir -p $(BUILD) && rm -f $(SUMMARY)
	$(MAKE) --no-print-directory unit asan fuzz-smoke e2e
	@scripts/test-summary.sh $(SUMMARY)

unit: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest -L unit --output-on-failure -j$(JOBS) | tee -a $(SUMMARY)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDUET_SANITIZE=ON -DDUET_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	@mkdir -p $(BUILD)
	cd $(ASAN_BUILD) && ctest -L 'unit|e2e' --output-on-failure -j$(JOBS) | tee -a $(SUMMARY)

e2e: unit
	cd $(BUILD) && ctest -L e2e --output-on-failure | tee -a $(SUMMARY)

fuzz-smoke:
	@if command -v clang >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS); \
	else echo "fuzz: clang not found, fuzz run skipped"; fi

fuzz:
	@scripts/install-deps.sh test
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDUET_FUZZ=ON -DDUET_TESTS=OFF -DDUET_BENCH=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_sip_parse
	scripts/fuzz.sh $(FUZZ_BUILD)/fuzz/fuzz_sip_parse $(FUZZ_SECONDS)

bench:
	@scripts/install-deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUET_BENCH=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	bench/run.sh $(BUILD)

# The calls-per-second benchmark: SIPp -> duet / Kamailio / SIPp -> SIPp on
# 127.0.0.1, about 22 minutes; see bench/cps/run.sh and bench/RESULTS.md.
.PHONY: bench-cps
bench-cps:
	@scripts/install-deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target duet
	bench/cps/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# clang-tidy ignores the build's LTO flags (gcc's), quietly
lint: build
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 -I include --suppress=missingIncludeSystem core legs policy app
	clang-tidy -p $(BUILD) --quiet --extra-arg=-Wno-ignored-optimization-argument \
		$$(git ls-files 'core/*.c' 'legs/*.c' 'policy/*.c' 'app/*.c')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
