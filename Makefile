# The two commands of the README:
#   make demo    installs what is missing (as root), builds, runs the bank demo
#   make check   builds and runs every test
# Other targets: make (build only), make clean.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PRELOAD = $(BUILD)/preload/liblockwatch.so

.PHONY: all deps build demo check clean

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

check: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
