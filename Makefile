# Nimbus build. `make` builds build/nimbus; `make run` serves on 127.0.0.1:4566 with data in
# ./data; `make test` runs unit, integration and fuzz tests, then the same under ASan+UBSan.

CC       ?= cc
PYTHON   ?= /usr/bin/python3
BOTOCORE ?= /usr/lib/python3/dist-packages/botocore/data

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes
CPPFLAGS := -D_GNU_SOURCE -Isrc -Ibuild/gen -I/usr/include/libxml2
BASECFLAGS := -std=c17 -g -pthread $(WARN) $(CPPFLAGS)
CFLAGS   ?= -O2
# Not -lssl -lcrypto -lz: src/core/lazylib.c loads them on first use (idle RSS, see its
# comment). Unit tests and fuzzers add them (some make certificates with calls the server never
# makes); --exclude-libs keeps lazylib.c's forwarders out of their dynamic symbols, so that
# they do not interpose on the libraries' calls to themselves. Only our own archives: with ALL,
# the sanitizer runtime (a static archive too) stopped exporting malloc/free, so shared
# libraries allocated from libc and the sanitized free() refused their pointers.
LIBS     := -lhttp_parser -ljansson -lsqlite3 -lpthread -lm
TEST_LIBS := -Wl,--exclude-libs=libnimbus.a:libnimbus-asan.a:libnimbus-fuzz.a $(LIBS) -lssl -lcrypto -lz
# The server's ~1,700 relative relocations (pointers in tables, a PIE) packed as DT_RELR
# (glibc >= 2.36): 40 KiB of .rela.dyn become 0.5 KiB, pages exec no longer reads.
SERVER_LDFLAGS := -Wl,-z,pack-relative-relocs

ASAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRCS      := $(shell find src -name '*.c' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
GEN_SRCS  := build/gen/models.c
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard fuzz/*/fuzz_*.c)

OBJ      := $(patsubst %.c,build/obj/%.o,$(LIB_SRCS) $(GEN_SRCS))
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(LIB_SRCS) $(GEN_SRCS))
UNIT_BIN := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRCS))
UNIT_ASAN_BIN := $(patsubst tests/unit/%.c,build/asan-tests/%,$(UNIT_SRCS))
FUZZ_BIN := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

# Build with every core unless told otherwise (CI calls plain `make test`).
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

.PHONY: all run test test-unit test-integration test-asan test-fuzz test-long deps clean bench fmt asan

all: build/nimbus

deps:
	@tools/deps.sh

build/gen/models.c: tools/gen_models.py tools/s3_model_additions.py src/svc/services.def
	@mkdir -p build/gen
	$(PYTHON) tools/gen_models.py --services src/svc/services.def --botocore $(BOTOCORE) --out $@

build/obj/%.o: %.c | build/gen/models.c
	@mkdir -p $(dir $@)
	$(CC) $(BASECFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c | build/gen/models.c
	@mkdir -p $(dir $@)
	$(CC) $(BASECFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

build/lib/libnimbus.a: $(OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/lib/libnimbus-asan.a: $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/nimbus: build/obj/src/main.o build/lib/libnimbus.a
	$(CC) $(BASECFLAGS) $(CFLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(LIBS)

build/nimbus-asan: build/asan/src/main.o build/lib/libnimbus-asan.a
	$(CC) $(BASECFLAGS) $(ASAN_FLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(LIBS)

asan: build/nimbus-asan

build/tests/%: tests/unit/%.c build/lib/libnimbus.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(BASECFLAGS) $(CFLAGS) -Itests/unit -o $@ $< build/lib/libnimbus.a $(TEST_LIBS)

build/asan-tests/%: tests/unit/%.c build/lib/libnimbus-asan.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(BASECFLAGS) $(ASAN_FLAGS) -Itests/unit -o $@ $< build/lib/libnimbus-asan.a $(TEST_LIBS)

# libFuzzer targets: clang, linked against the sanitizer objects built by clang too.
FUZZ_CC := clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
build/fuzzobj/%.o: %.c | build/gen/models.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c17 -pthread $(CPPFLAGS) -Wall -Wno-unused-parameter $(FUZZ_FLAGS) -MMD -MP -c $< -o $@
FUZZ_OBJ := $(patsubst %.c,build/fuzzobj/%.o,$(LIB_SRCS) $(GEN_SRCS))
build/lib/libnimbus-fuzz.a: $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
build/fuzz/%: fuzz/%.c build/lib/libnimbus-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c17 -pthread $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< build/lib/libnimbus-fuzz.a $(TEST_LIBS)

run:
	@tools/deps.sh
	$(MAKE) build/nimbus
	./build/nimbus serve --host 127.0.0.1 --port 4566 --data-dir ./data

test-unit: $(UNIT_BIN)
	@tools/run-unit.sh $(UNIT_BIN)

# Each test starts its own server on a free port, so tests run in parallel (-n); the
# machine's two cores are mostly waiting on fsync and sockets during these tests.
PYTEST_JOBS ?= 4
PYTEST := $(PYTHON) -m pytest -q -p no:cacheprovider -n $(PYTEST_JOBS)

test-integration: build/nimbus
	NIMBUS_BIN=$(CURDIR)/build/nimbus $(PYTEST) tests/integration

test-asan: build/nimbus-asan $(UNIT_ASAN_BIN)
	@tools/run-unit.sh $(UNIT_ASAN_BIN)
	NIMBUS_BIN=$(CURDIR)/build/nimbus-asan NIMBUS_ASAN=1 $(PYTEST) tests/integration

test-fuzz: $(FUZZ_BIN)
	@tools/run-fuzz.sh $(FUZZ_BIN)

test:
	@tools/deps.sh
	$(MAKE) all
	$(MAKE) test-unit
	$(MAKE) test-integration
	$(MAKE) test-fuzz
	$(MAKE) test-asan

test-long:
	@tools/deps.sh
	$(MAKE) build/nimbus
	NIMBUS_BIN=$(CURDIR)/build/nimbus NIMBUS_LONG=1 $(PYTEST) tests/integration

bench: build/nimbus
	bench/run.sh

fmt:
	clang-format -i $(SRCS) $(UNIT_SRCS) $(FUZZ_SRCS)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
