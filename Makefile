# rg: GNU make, no configure step.  Flags come from pkg-config; each tool
# links only the libraries it uses.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD ?= build

CC ?= cc
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Icommon -pthread \
	$(shell pkg-config --cflags jansson libpcre2-8 libcrypto libcurl yaml-0.1 zlib)

TOOLS = rg-scan rg-pulls rg-select rg-refs rg-rm rg-restore
MAN1 = $(TOOLS:%=man/%.1)
MAN5 = man/rg-records.5
MAN7 = man/rg.7

# what each tool links, beyond libcommon.a
# (rg-scan opens libcurl itself, when it scans a URL: common/http.c)
LIBS_rg-scan = jansson libpcre2-8 libcrypto yaml-0.1
LIBS_rg-pulls = jansson libpcre2-8 zlib
LIBS_rg-select = jansson libpcre2-8
LIBS_rg-refs = jansson libcrypto
LIBS_rg-rm = jansson libcrypto yaml-0.1
LIBS_rg-restore = jansson libcrypto yaml-0.1

COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
BINS = $(TOOLS:%=$(BUILD)/bin/%)

SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all

.PHONY: all check test test-san lint deps deps-build deps-demo install uninstall clean bench demo stress \
	fuzz fuzz-bins fuzz-replay
.SECONDARY:

all: $(BINS)

$(BUILD)/common/%.o: common/%.c $(wildcard common/*.h) | deps-build
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c $(wildcard common/*.h) | deps-build
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/cmd/%.o $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcommon.a \
		$(shell pkg-config --libs $(LIBS_$*))

$(BUILD)/bench/gen-tree: tests/bench/gen-tree.c $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcommon.a \
		$(shell pkg-config --libs jansson libcrypto)

# What each target needs, installed when missing (tests/install-deps):
# the build's libraries for make, the demo's tools for make demo, the
# whole test bench for the rest.
deps:
	@tests/install-deps all

deps-build:
	@tests/install-deps build

deps-demo:
	@tests/install-deps demo

# The whole suite, then again under AddressSanitizer and UBSan, then
# every saved fuzzing input once (tests/fuzz/corpus), then lint.
check: deps all $(BUILD)/bench/gen-tree lint
	tests/run $(BUILD)/bin
	$(MAKE) --no-print-directory test-san
	$(MAKE) --no-print-directory fuzz-replay

test: all $(BUILD)/bench/gen-tree
	tests/run $(BUILD)/bin

test-san:
	$(MAKE) --no-print-directory BUILD=build-san CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" all build-san/bench/gen-tree
	ASAN_OPTIONS=detect_leaks=1:exitcode=86 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
		tests/run build-san/bin

# Fuzzing (tests/fuzz): a libFuzzer target per parser, built with clang
# under AddressSanitizer and UBSan over common/ built the same way.
FUZZ_TARGETS = $(basename $(notdir $(wildcard tests/fuzz/*.c)))
FUZZ_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_BINS = $(FUZZ_TARGETS:%=build-fuzz/fuzz/%)
LIBS_FUZZ = jansson libpcre2-8 libcrypto libcurl yaml-0.1 zlib

fuzz-bins:
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
		CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" build-fuzz/libcommon.a
	$(MAKE) --no-print-directory $(FUZZ_BINS)

build-fuzz/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h build-fuzz/libcommon.a
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer -std=c11 -D_GNU_SOURCE -Icommon \
		$(shell pkg-config --cflags $(LIBS_FUZZ)) -o $@ $< \
		build-fuzz/libcommon.a $(shell pkg-config --libs $(LIBS_FUZZ)) -pthread

# every saved input once: a crash fixed stays fixed
fuzz-replay: fuzz-bins
	tests/fuzz/run -replay build-fuzz

# FUZZ_SECONDS (300) of new inputs for each target, then the tools on
# stdin under AFL++ (FUZZ_AFL_SECONDS, 300 each); new crashes reported
FUZZ_SECONDS ?= 300
FUZZ_AFL_SECONDS ?= 300
fuzz: deps fuzz-bins
	tests/fuzz/run -fuzz build-fuzz $(FUZZ_SECONDS)
	tests/fuzz/afl build-fuzz $(FUZZ_AFL_SECONDS)

lint:
	mandoc -Tlint -W warning $(MAN1) $(MAN5) $(MAN7)

bench: deps all $(BUILD)/bench/gen-tree
	tests/bench/run $(BUILD)

# Pushes while the cleanup runs, longer than make check's bounded run:
# every cache mode, with --min-age 0s and with the default, then with
# every other rg-rm killed at a random moment (SIGKILL); on S3 also with
# rg-rm --recover after each kill, and with two rg-rm at once (TWO=1).
STRESS_SECONDS ?= 120
stress: deps all
	for mode in none inmemory redis; do \
		for age in 0s 1h; do \
			tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) $$mode $$age || exit 1; \
		done; \
		tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) $$mode 0s 2 || exit 1; \
	done
	TWO=1 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s
	JOBS=2 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s 2
	STORE=s3 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s
	STORE=s3 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s 2
	STORE=s3 RECOVER=1 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s 2
	STORE=s3 TWO=1 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s
	RESTORE=1 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s 2
	STORE=s3 RESTORE=1 tests/stress/live $(BUILD)/bin $(STRESS_SECONDS) none 0s 2

demo: deps-demo
	@$(MAKE) --no-print-directory all
	tests/demo $(BUILD)/bin

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) \
		$(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) \
		$(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%) \
		$(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)

clean:
	rm -rf build build-san build-fuzz
