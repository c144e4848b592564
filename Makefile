# spookyd: GNU make, C11.  `make` builds build/default/spookyd;
# `make check` builds and runs every test; SANITIZE=1 builds everything
# with ASan+UBSan into build/asan; VALGRIND=1 runs the tests under valgrind.

PREFIX      ?= /usr/local
sbindir     ?= $(PREFIX)/sbin
datadir     ?= $(PREFIX)/share
mandir      ?= $(datadir)/man
sysconfdir  ?= /etc
unitdir     ?= $(PREFIX)/lib/systemd/system
sysusersdir ?= $(PREFIX)/lib/sysusers.d
DESTDIR     ?=

CC          ?= cc
PKG_CONFIG  ?= pkg-config
PKGS        := libuv libcurl jansson libcrypto libsystemd
VERSION     := 0.1.0

ifeq ($(SANITIZE),1)
BUILD       ?= build/asan
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
OPT         ?= -O1 -g
else
BUILD       ?= build/default
SAN_FLAGS   :=
OPT         ?= -O2 -g
endif

WARN        := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
               -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS    += -Iinclude -D_GNU_SOURCE -DSPOOKYD_VERSION='"$(VERSION)"' \
               -DSPOOKYD_SYSCONFDIR='"$(sysconfdir)"'
CFLAGS      += -std=c11 $(OPT) $(WARN) $(SAN_FLAGS) -MMD -MP \
               $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDFLAGS     += $(SAN_FLAGS)
LDLIBS      += $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm

# Every .c under src/ but main.c goes into a static library that the
# daemon and the tests link, so adding a module needs no Makefile edit.
LIB_SRCS    := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB         := $(BUILD)/libspookyd.a
BIN         := $(BUILD)/spookyd

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPERS:= $(wildcard tests/unit/helpers/*.c)
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka)
# Small programs the process tests drive (tests/tools/*.c).
TOOL_SRCS   := $(wildcard tests/tools/*.c)
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all check unit install uninstall clean demo bench fuzz proof

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(TEST_HELPERS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ \
	    $< $(TEST_HELPERS) $(LIB) $(LDLIBS) $(TEST_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

unit: $(UNIT_BINS)

# The README's test command.  tests/run prints "N passed, N failed".
check: $(BIN) $(UNIT_BINS) $(TOOL_BINS)
	BUILD=$(BUILD) VALGRIND=$(VALGRIND) SANITIZE=$(SANITIZE) tests/run

install: $(BIN)
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man8 \
	    $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(sysconfdir)/spookyd \
	    $(DESTDIR)$(unitdir) $(DESTDIR)$(datadir)/spookyd
	install -m 0755 $(BIN) $(DESTDIR)$(sbindir)/spookyd
	install -m 0644 docs/spookyd.8 $(DESTDIR)$(mandir)/man8/spookyd.8
	install -m 0644 docs/spookyd.conf.5 $(DESTDIR)$(mandir)/man5/spookyd.conf.5
	install -m 0644 conf/spookyd.conf $(DESTDIR)$(datadir)/spookyd/spookyd.conf
	test -e $(DESTDIR)$(sysconfdir)/spookyd/spookyd.conf || \
	    install -m 0640 conf/spookyd.conf \
	    $(DESTDIR)$(sysconfdir)/spookyd/spookyd.conf
	if [ -f conf/national-days.json ]; then \
	    install -m 0644 conf/national-days.json \
	    $(DESTDIR)$(sysconfdir)/spookyd/national-days.json; fi
	sed 's|@sbindir@|$(sbindir)|g; s|@sysconfdir@|$(sysconfdir)|g' \
	    systemd/spookyd.service > $(DESTDIR)$(unitdir)/spookyd.service
	chmod 0644 $(DESTDIR)$(unitdir)/spookyd.service
	install -d $(DESTDIR)$(sysusersdir)
	install -m 0644 systemd/spookyd.sysusers.conf \
	    $(DESTDIR)$(sysusersdir)/spookyd.conf

# The config under sysconfdir is the operator's: uninstall leaves it.
uninstall:
	rm -f $(DESTDIR)$(sbindir)/spookyd $(DESTDIR)$(mandir)/man8/spookyd.8 \
	    $(DESTDIR)$(mandir)/man5/spookyd.conf.5 \
	    $(DESTDIR)$(unitdir)/spookyd.service \
	    $(DESTDIR)$(sysusersdir)/spookyd.conf
	rm -rf $(DESTDIR)$(datadir)/spookyd

# The README's first command: the whole pipeline on local stand-ins.
demo:
	tests/setup-deps
	$(MAKE) $(BIN)
	BUILD=$(BUILD) /usr/bin/python3 tests/demo.py

# The long variants of the fault and crash tests: 20 kill -9 seeds
# (PROOF_SEEDS=n for more) and the stalls that wait out the fixed 30-60 s
# timeouts of AWS and X.
proof: $(BIN) $(TOOL_BINS)
	@fail=0; for t in faults crash secrets_hygiene; do \
	    PROOF=1 BUILD=$(BUILD) VALGRIND=$(VALGRIND) SANITIZE=$(SANITIZE) \
	    TESTS=proc/test_$$t tests/run || fail=1; done; exit $$fail

# Footprint, wake-ups, CPU per image, peak memory and wall time of the
# -O2 daemon on the local stand-ins, next to the old app's flow in Python
# (tests/bench/reference_flow.py); a table on stdout and
# tests/bench/results-<date>.md.  About 3 minutes; goals are reported only.
bench:
	tests/setup-deps
	$(MAKE) SANITIZE= BUILD=build/default OPT="-O2 -g" build/default/spookyd
	BUILD=build/default /usr/bin/python3 tests/bench/bench.py

# libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan,
# linked with the library built the same way in its own object dir.
# `make fuzz` runs each for FUZZ_SECONDS on a copy of its seed corpus in
# build/fuzz/corpus (kept between runs); crash inputs go to
# tests/fuzz/crashes/ (gitignored).  See tests/fuzz/run.
FUZZ_CC     ?= clang
FUZZ_SECONDS?= 60
FUZZ_DIR    := build/fuzz
FUZZ_FLAGS  := -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
FUZZ_OBJS   := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%, \
               $(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(filter-out $(SAN_FLAGS) $(OPT),$(CFLAGS)) \
	    $(FUZZ_FLAGS) -c -o $@ $<

$(FUZZ_DIR)/libspookyd.a: $(FUZZ_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h \
		$(FUZZ_DIR)/libspookyd.a
	$(FUZZ_CC) $(CPPFLAGS) -Isrc $(filter-out $(SAN_FLAGS) $(OPT),$(CFLAGS)) \
	    $(FUZZ_FLAGS) -o $@ $< $(FUZZ_DIR)/libspookyd.a $(LDLIBS)

fuzz: $(FUZZ_BINS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ_BINS)

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d $(FUZZ_OBJS:.o=.d) \
    $(FUZZ_BINS:=.d)
