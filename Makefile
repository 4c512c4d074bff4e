# SPDX-License-Identifier: MIT
# Thin wrapper over meson. `make demo` and `make test` are the two commands that matter.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_FLAGS ?=

.PHONY: all deps build test test-asan demo bench bench-sfu clean

all: build

deps:
	./scripts/install-deps.sh
	./scripts/install-browser-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS) -Dwerror=$(if $(CI),true,false)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

# The whole suite (unit, fuzzing, pipeline, process, browser, container), then the unit,
# fuzz-replay and pipeline suites again under ASan+UBSan.
test: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 1
	$(MAKE) test-asan

test-asan: deps
	[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=$(if $(CI),true,false)
	meson compile -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 1 --suite unit --suite fuzzing --suite pipeline

demo: build
	./scripts/demo.sh

bench: build
	./bench/recorder-cost

bench-sfu: build ; $(BUILD)/bench/sfu-forward --calls 2 --participants 100 --speakers 2 --screen --seconds 10
bench-latency: build ; CALLREC_BUILD_DIR=$(BUILD) ./bench/recording-latency

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
