# The two commands of the README:
#   make demo    installs what is missing (as root), builds, runs the bank demo
#   make check   builds and runs every test
# Other targets: make (build only), make demo-python (the bank in Python), make check-real (real multi-threaded
# programs, with and without lockwatch), make check-asan (the code and its tests
# under AddressSanitizer and UndefinedBehaviorSanitizer), make check-fuzz
# (the parsers under libFuzzer for FUZZ_SECONDS each), make html-screenshot
# (docs/html-report.png: the bank demo's HTML page in headless Chromium, made
# and checked by the test's own script), make clean.
BUILD ?= build
CMAKE_FLAGS ?=
CC ?= cc
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PRELOAD = $(BUILD)/preload/liblockwatch.so

FUZZ_SECONDS ?= 30

.PHONY: all deps build demo demo-python check check-real check-asan check-fuzz html-screenshot clean

all: build

deps:
	@scripts/deps.sh --quiet

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@echo "== bank --variant=naive under lockwatch (LD_PRELOAD=$(PRELOAD))"
	@LD_PRELOAD=$(abspath $(PRELOAD)) $(BUILD)/demos/bank --variant=naive; \
	  status=$$?; \
	  if [ $$status -eq 66 ]; then \
	    echo "== lockwatch found the lock-order inversion: exit status 66, as expected"; \
	  else \
	    echo "== unexpected exit status $$status (lockwatch should have made it 66)"; exit 1; \
	  fi

# The same bank in Python: threading.Lock is a semaphore (CPython <= 3.13.0).
demo-python: build
	@command -v python3 >/dev/null || { echo "== python3 not found: nothing to run"; exit 0; }
	@echo "== python3 demos/python/bank.py --variant=naive under lockwatch"
	@LD_PRELOAD=$(abspath $(PRELOAD)) python3 demos/python/bank.py --variant=naive; \
	  status=$$?; \
	  if [ $$status -eq 66 ]; then \
	    echo "== lockwatch found the lock-order inversion: exit status 66, as expected"; \
	  else \
	    echo "== unexpected exit status $$status (lockwatch should have made it 66)"; exit 1; \
	  fi

check: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Real programs (compressors, sort, sqlite3, python3, memcached, stress-ng,
# openssl, redis) natively and under lockwatch: same outputs, no report.
check-real: build
	@tests/real/run.sh --build $(BUILD)

# The core, the command and their tests built with ASan and UBSan (leaks
# included); the end-to-end programs run with the sanitized preload behind
# the sanitizer runtime (their own leaks are not ours: not checked there).
# Left to make check: tests whose premise a sanitizer runtime first in
# LD_PRELOAD changes: the exact LD_PRELOAD (exec, preload order, the install
# and package), and memory coming back (ASan's own free() comes first and
# quarantines freed memory, so heap reuse and other allocators cannot be
# tested under it), and signals (the sanitizer's own handlers and signal
# interceptors decide how a crash or an interrupted wait ends). The Python
# programs (label python) are left to make check too: they test the
# interpreters and the layer's module, which the sanitizers do not build.
ASAN_SKIP = tools[.](install|cpack|run[.]preload)|e2e[.](reinit[.]heap|cxx[.]heap_reuse|cxx_api[.]heap|identity[.](free|realloc)|exec[.]|alloc[.]|lwcheck_selftest|fatal[.]|sem[.]eintr)
check-asan: deps
	@cmake -S . -B $(BUILD)-asan -DLOCKWATCH_SANITIZE=ON -DLOCKWATCH_BUILD_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)
	@cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|docs'
	@cd $(BUILD)-asan && LWCHECK_PRELOAD_FIRST=$$($(CC) -print-file-name=libasan.so) \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L 'e2e|tools' -LE python -E '$(ASAN_SKIP)'

# libFuzzer targets need clang.
check-fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DLOCKWATCH_BUILD_FUZZ=ON \
	  -DLOCKWATCH_BUILD_TESTS=OFF -DLOCKWATCH_BUILD_DEMOS=OFF -DLOCKWATCH_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_options fuzz_suppressions fuzz_report_json
	@tests/fuzz/run.sh $(BUILD)-fuzz $(FUZZ_SECONDS)

html-screenshot: build
	@python3 tests/tools/html_check.py bank --lockwatch $(BUILD)/tools/lockwatch \
	  --preload $(PRELOAD) --bank $(BUILD)/demos/bank --source-dir . \
	  --screenshot docs/html-report.png

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
