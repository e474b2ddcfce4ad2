# skiff: the two commands a newcomer needs are `make run` and `make test`.
# Each installs what is missing (scripts/install-deps), then builds with CMake.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 30

.PHONY: all deps build run test test-plain test-asan fuzz fuzz-run bench clean

all: build

deps:
	@bash scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main demo: an HTTP/3 server and client on 127.0.0.1 (scripts/demo).
run: build
	@bash scripts/demo $(BUILD)

# Every step stops `make` at its first failure, so reaching the summary
# means every test of both builds and every fuzz target passed.
test: deps test-plain test-asan fuzz-run
	@plain=$$(cd $(BUILD) && ctest -N | sed -n 's/^Total Tests: //p'); \
	 asan=$$(cd $(BUILD_ASAN) && ctest -N | sed -n 's/^Total Tests: //p'); \
	 fuzz=$$(ls $(BUILD_FUZZ)/*_fuzz 2>/dev/null | wc -l); \
	 echo "make test: $$plain ctest tests plain, $$asan under ASan+UBSan, $$fuzz fuzz targets"; \
	 echo "summary: $$((plain + asan + fuzz)) passed, 0 failed"

test-plain: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSKIFF_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

fuzz: deps
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIFF_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)

# Runs every fuzz target for FUZZ_SECONDS in all, from the seed corpus the
# tests write. Skipped, loudly, only where clang is missing.
fuzz-run: build
	@if command -v clang >/dev/null; then \
		$(MAKE) --no-print-directory fuzz && \
		bash tests/fuzz/run $(BUILD) $(BUILD_FUZZ) $(FUZZ_SECONDS); \
	else echo "SKIP fuzz: clang is not installed"; fi

bench: build
	@bash tests/bench/run $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
