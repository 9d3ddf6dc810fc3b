# SPDX-License-Identifier: MIT
# actplane build, in the style of libbpf-bootstrap: everything generated
# lives under $(OUTPUT); BPF objects become skeletons with bpftool and the
# user objects that use them depend on those skeletons. `make V=1` shows the
# commands.

OUTPUT ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION := 0.1.0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARNINGS) $(CFLAGS) -D_GNU_SOURCE \
	      -DAP_VERSION='"$(VERSION)"' -I$(OUTPUT) -Isrc -I.
LDLIBS := -lbpf -lelf -lz -lyaml -ljson-c -lseccomp -lncursesw -lcrypto -lpthread

ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
VMLINUX := $(OUTPUT)/vmlinux.h

SRCS := $(shell find src -name '*.c' | sort)
OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(SRCS))
MAIN_OBJ := $(OUTPUT)/obj/src/cli/main.o
LIB_OBJS := $(filter-out $(MAIN_OBJ),$(OBJS))
LIB := $(OUTPUT)/libactplane.a
BIN := $(OUTPUT)/actplane

TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(TEST_SRCS))

.PHONY: all clean test unit demo fuzz bench install deps
.DELETE_ON_ERROR:

all: $(BIN) $(TEST_BINS)

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(VMLINUX): | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf \
		-Wall -Werror -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# User objects; the engine's include the skeletons.
$(OUTPUT)/obj/%.o: %.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(filter $(OUTPUT)/obj/src/engine/% $(OUTPUT)/obj/src/enforce/% $(OUTPUT)/obj/src/cli/%,$(OBJS)): $(SKELS)

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Wno-missing-prototypes $< $(LIB) $(LDLIBS) -lcmocka -o $@

unit: $(TEST_BINS)

test: all
	$(Q)bash tests/run.sh

demo: deps all
	$(Q)bash scripts/demo.sh

deps:
	$(Q)bash scripts/deps.sh

fuzz:
	$(Q)bash tests/fuzz/build.sh

bench: all
	$(Q)bash bench/run.sh

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)/usr/local/bin/actplane
	install -D -m 0644 man/actplane.1 $(DESTDIR)/usr/local/share/man/man1/actplane.1

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT) build-*

-include $(OBJS:.o=.d)
