# tracegate: one non-recursive Makefile.
#
#   make                    bin/tracegate bin/tracegate-runner bin/kubectl-trace
#                           (and bin/kubectl_complete-trace, its completion)
#   make deps               install the Debian packages everything needs
#   make test               unit, sanitizer, fuzz-corpus, e2e and compat tests
#   make test LOAD=2        the same beside 2 busy loops (a loaded machine)
#   make test-unit          headers compile alone, then the unit tests (seconds)
#   make test-e2e [TG_TEST_FILTER=regex]   the e2e tests (all, or the files
#                           whose path matches: TG_TEST_FILTER=kubectl-cli)
#   make demo               the local stack and a walk through it as a tenant
#   make playground         the local stack left running; source build/playground/env
#   make playground-down    stop it, leaving nothing behind
#   make bench              tests/bench against bpftrace 0.17, as ratios: the
#                           runner alone, then the tenant path (kubectl ->
#                           gateway -> runner: events, first event, load,
#                           cached decisions; docs/performance.md)
#   make bench-gateway      the tenant path only
#   make bench-load         its load part only (concurrent sessions)
#   make images             OCI images of the gateway and the runner, built here
#                           from the Debian packages (buildah, no base image):
#                           build/images/*.tar, then tests/images/check.sh runs
#                           them (IMAGE_PREFIX=registry/path, IMAGE_TAG=tag;
#                           docs/deployment.md)
#   make images-deps        install buildah and runc (make images needs them)
#   make SANITIZE=address,undefined   the same build under sanitizers
#   make V=1                print full commands
#
# Every folder's *.c files build into build/libtg<folder>.a; the file
# <folder>/main.c (where there is one) is the folder's program.  A change
# of flags rebuilds everything (build/.../flags is a prerequisite).

CC       ?= cc
CLANG    ?= clang
PKGS     := libbpf libelf libcurl openssl jansson libseccomp libevent libevent_openssl yaml-0.1 zlib

ifneq ($(SANITIZE),)
O        := build/san
BIN      := build/san/bin
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
O        := build
BIN      := bin
SANFLAGS :=
endif

WARN     := -Wall -Wextra -Wshadow -Wvla -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral -Wno-unused-parameter -Werror
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -D_GNU_SOURCE -I. \
            -fno-strict-aliasing -pthread \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

MODULES  := lib lang output policy kube wire runner gateway plugin
# libraries, most dependent first so a single link line resolves
LINKORDER := gateway runner plugin wire kube policy output lang lib

define module_srcs
$(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
endef

LIB_lib     := $(O)/libtglib.a
LIB_lang    := $(O)/libtglang.a
LIB_output  := $(O)/libtgoutput.a
LIB_policy  := $(O)/libtgpolicy.a
LIB_kube    := $(O)/libtgkube.a
LIB_wire    := $(O)/libtgwire.a
LIB_runner  := $(O)/libtgrunner.a
LIB_gateway := $(O)/libtggateway.a
LIB_plugin  := $(O)/libtgplugin.a
ALL_LIBS    := $(foreach m,$(LINKORDER),$(LIB_$(m)))

PROGS := $(BIN)/tracegate $(BIN)/tracegate-runner $(BIN)/kubectl-trace $(BIN)/kubectl_complete-trace
KUBESIM := $(O)/tests/kubesim
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))
TESTLIB_SRCS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(O)/tests/tools/%,$(TOOL_SRCS))
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(O)/tests/bench/%,$(BENCH_SRCS))

.SECONDARY:
.PHONY: all deps images images-deps test test-unit test-e2e demo playground playground-down bench bench-gateway bench-load bench-build clean fuzz tests-build compile_commands.json
all: $(PROGS)

# --- flags file: rebuild everything when the flags change -------------------
FLAGS_FILE := $(O)/flags
$(shell mkdir -p $(O) && echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LDLIBS)' > $(O)/flags.new && \
	(cmp -s $(O)/flags.new $(O)/flags || mv $(O)/flags.new $(O)/flags); rm -f $(O)/flags.new)

# --- version: build/gen/version.h, rewritten only when what it says changes --
# The build date is the commit's (UTC), so a tree builds the same bytes.
TG_VERSION_STR := 0.1.0
$(shell mkdir -p $(O)/gen && { \
	c=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	[ "$$c" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null && c=$$c-dirty; \
	d=$$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown); \
	printf '#define TG_VERSION "%s"\n#define TG_GIT_COMMIT "%s"\n#define TG_BUILD_DATE "%s"\n' \
		'$(TG_VERSION_STR)' "$$c" "$${d:-unknown}"; } > $(O)/gen/version.h.new && \
	(cmp -s $(O)/gen/version.h.new $(O)/gen/version.h || mv $(O)/gen/version.h.new $(O)/gen/version.h); \
	rm -f $(O)/gen/version.h.new)
$(O)/obj/lib/version.o: ALL_CFLAGS += -I$(O)
build/fuzz/obj/lib/version.o: FUZZ_CFLAGS += -Ibuild

# --- objects -----------------------------------------------------------------
$(O)/obj/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

define module_rules
OBJS_$(1) := $$(patsubst %.c,$(O)/obj/%.o,$$(call module_srcs,$(1)))
$$(LIB_$(1)): $$(OBJS_$(1))
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $$^ $$(if $$^,,$(O)/obj/empty.o)
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

$(O)/obj/empty.o: $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(Q)echo 'int tg_empty_unit_;' | $(CC) $(ALL_CFLAGS) -x c -c -o $@ -
$(foreach m,$(MODULES),$(eval $(LIB_$(m)): $(O)/obj/empty.o))

# Which libraries each folder links, most dependent first.
DEPS_lib     := lib
DEPS_lang    := lang lib
DEPS_output  := output lib
DEPS_policy  := policy lang lib
DEPS_kube    := kube lib
DEPS_wire    := wire kube policy lang lib
DEPS_runner  := runner wire kube policy output lang lib
DEPS_gateway := gateway wire kube policy output lang lib
DEPS_plugin  := plugin wire kube policy output lang lib
# the fuzzers outside runner/ and gateway/ link every front-end library
DEPS_fuzz    := plugin wire kube policy output lang lib
DEPS_kubesim := kube lib
libs_for = $(foreach m,$(DEPS_$(1)),$(LIB_$(m)))

define link_prog
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS) $(1)
endef

$(BIN)/tracegate: $(O)/obj/gateway/main.o $(call libs_for,gateway)
	$(call link_prog)
$(BIN)/tracegate-runner: $(O)/obj/runner/main.o $(call libs_for,runner)
	$(call link_prog)
$(BIN)/kubectl-trace: $(O)/obj/plugin/main.o $(call libs_for,plugin)
	$(call link_prog)
# kubectl 1.26+ completes `kubectl trace ...` by running kubectl_complete-trace
# from PATH: the same program, which answers completions under that name.
$(BIN)/kubectl_complete-trace: $(BIN)/kubectl-trace
	$(Q)ln -sf kubectl-trace $@
$(KUBESIM): $(patsubst %.c,$(O)/obj/%.o,$(wildcard tests/kubesim/*.c)) $(call libs_for,kubesim)
	$(call link_prog)
# tests/tools/<folder>-<name>.c links that folder's libraries
define tool_rule
$(O)/tests/tools/$(1)-%: $(O)/obj/tests/tools/$(1)-%.o $$(call libs_for,$(1))
	$$(call link_prog)
endef
$(foreach m,$(MODULES),$(eval $(call tool_rule,$(m))))
# tests/bench/*.c: the benchmarks' own clients, on lib/ alone
$(O)/tests/bench/%: $(O)/obj/tests/bench/%.o $(call libs_for,lib)
	$(call link_prog)

# Unit tests are named test-<folder>-<what>.c and link that folder's
# libraries (and what they depend on), so a half-built folder elsewhere
# does not stop them.
TESTLIB_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(TESTLIB_SRCS))
define unit_rule
$(O)/tests/test-$(1)-%: $(O)/obj/tests/unit/test-$(1)-%.o $(TESTLIB_OBJS) $$(call libs_for,$(1))
	$$(call link_prog,-lcmocka)
endef
$(foreach m,$(MODULES),$(eval $(call unit_rule,$(m))))

# --- fuzzing (clang, libFuzzer) -----------------------------------------------
# Every folder's sources are built once more with clang and the fuzzer's
# instrumentation into build/fuzz/libtg<folder>.a; each tests/fuzz/fuzz-*.c
# links all of them (a static library only gives what is used).
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
build/fuzz/obj/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
define fuzz_lib_rule
build/fuzz/libtg$(1).a: $$(patsubst %.c,build/fuzz/obj/%.o,$$(call module_srcs,$(1))) build/fuzz/obj/empty.o
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call fuzz_lib_rule,$(m))))
build/fuzz/obj/empty.o:
	@mkdir -p $(dir $@)
	$(Q)echo 'int tg_empty_unit_;' | $(CLANG) $(FUZZ_CFLAGS) -x c -c -o $@ -
# fuzz-runner-*.c, fuzz-gateway-*.c and fuzz-wire-*.c link that folder's libraries;
# any other fuzzer links DEPS_fuzz (plugin, kube, policy, output, lang, lib).
fuzz_libs_for = $(foreach m,$(DEPS_$(1)),build/fuzz/libtg$(m).a)
define fuzz_link
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)
endef
build/fuzz/fuzz-runner-%: build/fuzz/obj/tests/fuzz/fuzz-runner-%.o $(call fuzz_libs_for,runner)
	$(fuzz_link)
build/fuzz/fuzz-gateway-%: build/fuzz/obj/tests/fuzz/fuzz-gateway-%.o $(call fuzz_libs_for,gateway)
	$(fuzz_link)
build/fuzz/fuzz-wire-%: build/fuzz/obj/tests/fuzz/fuzz-wire-%.o $(call fuzz_libs_for,wire)
	$(fuzz_link)
build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o $(call fuzz_libs_for,fuzz)
	$(fuzz_link)
fuzz: $(FUZZ_BINS)

tests-build: $(PROGS) $(KUBESIM) $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)
bench-build: $(PROGS) $(KUBESIM) $(TOOL_BINS) $(BENCH_BINS)

# --- top-level tasks -----------------------------------------------------------
# The three builds of `make test` use every core (CI has about 30 minutes
# for the whole run; a serial build took four of them).  JOBS= builds serially.
JOBS ?= -j$(shell nproc 2>/dev/null || echo 2)

deps:
	@tests/deps.sh

test: deps
	$(Q)$(MAKE) $(JOBS) --no-print-directory tests-build
	$(Q)$(MAKE) $(JOBS) --no-print-directory SANITIZE=address,undefined tests-build
	$(Q)$(MAKE) $(JOBS) --no-print-directory fuzz
	$(Q)LOAD=$(LOAD) tests/run

test-unit: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)TG_TESTS="headers unit" tests/run

test-e2e: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)TG_TESTS=e2e LOAD=$(LOAD) tests/run

demo: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/demo/run

playground: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/playground/run up

playground-down:
	$(Q)tests/playground/run down

bench: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/bench/run
	$(Q)tests/bench/gateway-run

bench-gateway: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/bench/gateway-run

bench-load: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/bench/gateway-run --only load

# Not part of `make test`: the images take minutes and most of a GB of
# containers-storage; tests/e2e/images-manifests.sh checks the manifests
# name what this builds.
images-deps: deps
	$(Q)tests/deps.sh images

images: images-deps
	$(Q)$(MAKE) --no-print-directory SANITIZE= all
	$(Q)tests/images/build.sh
	$(Q)tests/images/check.sh

compile_commands.json:
	bear -- $(MAKE) -B tests-build

clean:
	rm -rf build bin

-include $(shell find $(O)/obj build/fuzz/obj -name '*.d' 2>/dev/null)
