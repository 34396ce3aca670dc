# rapport: the one-word targets. `make run` and `make test` install what they need first.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
DATA ?= var
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 10
# The template engine parses untrusted templates: it gets a longer pass in `make test`.
FUZZ_SECONDS_template ?= 30
export FUZZ_SECONDS_template

DEBUG_DIR := build/debug
RELEASE_DIR := build/release
FUZZ_DIR := build/fuzz

.PHONY: all setup debug release fuzz-build run test unit fuzz fuzz-smoke bench format format-check tidy clean

all: debug

setup:
	@bash scripts/setup

# The test build: clang-16, ASan+UBSan, the unit tests, rapport and the libFuzzer targets from one
# compile of the tree (clang compiles it in about half g++'s time; the release build is g++).
$(DEBUG_DIR)/build.ninja:
	CXX=clang++-16 cmake -S . -B $(DEBUG_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRAPPORT_SANITIZE=ON -DRAPPORT_FUZZ=ON -DRAPPORT_WERROR=ON

$(RELEASE_DIR)/build.ninja:
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DRAPPORT_TESTS=OFF -DRAPPORT_BENCH=ON

$(FUZZ_DIR)/build.ninja:
	CXX=clang++-16 cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAPPORT_FUZZ=ON -DRAPPORT_TESTS=OFF -DRAPPORT_WERROR=ON

debug: $(DEBUG_DIR)/build.ninja
	ninja -C $(DEBUG_DIR) -j $(JOBS)

release: $(RELEASE_DIR)/build.ninja
	ninja -C $(RELEASE_DIR) -j $(JOBS)

fuzz-build: $(FUZZ_DIR)/build.ninja
	ninja -C $(FUZZ_DIR) -j $(JOBS)

# Installs, builds a release binary, migrates ./var and serves the API with a demo workspace.
run: setup release
	./$(RELEASE_DIR)/rapport migrate --data $(DATA)
	./$(RELEASE_DIR)/rapport serve --data $(DATA) --listen $(LISTEN) --demo

# Installs, checks the formatting, builds (clang-16, ASan+UBSan), runs a short fuzz pass of every
# parser, then every test:
# unit tests, the store contract on SQLite and a throwaway PostgreSQL, and integration tests.
test: setup format-check debug
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz-smoke $(DEBUG_DIR)
	ctest --test-dir $(DEBUG_DIR) -j $(JOBS) --output-on-failure --timeout 900

unit: debug
	ctest --test-dir $(DEBUG_DIR) -j $(JOBS) --output-on-failure -L unit

fuzz: setup fuzz-build
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} bash scripts/fuzz-smoke $(FUZZ_DIR)

fuzz-smoke: debug
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz-smoke $(DEBUG_DIR)

bench: setup release
	bash bench/run-all $(RELEASE_DIR)

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror

# The naming rules of .clang-tidy over every source file (slow: a few seconds a file).
tidy: $(DEBUG_DIR)/build.ninja
	git ls-files 'src/*.cpp' | xargs -P $(JOBS) -n 4 clang-tidy -p $(DEBUG_DIR) --quiet

clean:
	rm -rf build
