# moat: the two commands are `make demo` and `make check`. This file is a
# thin wrapper around Meson; see README.md.

# Every Debian package the build, the tests and the demo need.
DEPS_BUILD = gcc meson ninja-build pkg-config libnftables-dev libnftnl-dev \
	     libmnl-dev libsodium-dev libsqlite3-dev libqrencode-dev \
	     libjansson-dev libuv1-dev libmicrohttpd-dev libseccomp-dev \
	     libgnutls28-dev
DEPS_TEST  = libcmocka-dev clang python3 bc golang-go golang-github-hashicorp-hcl-v2-dev \
	     nftables iproute2 python3-pytest socat curl netcat-openbsd iputils-ping \
	     dnsmasq-base wireguard-go wireguard-tools qrencode zbar-tools openssl \
	     qemu-system-x86 kmod cpio python3-websockets python3-prometheus-client \
	     golang-github-getkin-kin-openapi-dev wrk nginx-light
DEPS = $(DEPS_BUILD) $(DEPS_TEST)

BUILD = build
ASAN  = build-asan
FUZZ  = build-fuzz
MOAT  = $(BUILD)/moat
FUZZ_SECONDS ?= 60

.PHONY: all deps check unit demo bench fuzz clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Installs what is missing, quietly; does nothing when all is there.
deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) -Dfuzz=true -Dtests=false -Db_lundef=false >/dev/null

# deps, build, every test suite; unit and golden tests again under ASan
# and UBSan; each fuzzer for 30 s.
check: deps all $(ASAN)/build.ninja
	meson test -C $(BUILD) --print-errorlogs
	ninja -C $(ASAN)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN) --print-errorlogs --suite unit --suite golden
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30

unit: all
	meson test -C $(BUILD) --print-errorlogs --suite unit

# Runs the libFuzzer harnesses for FUZZ_SECONDS each, seeded with the hard
# cases and the examples.
fuzz: $(FUZZ)/build.ninja
	@ninja -C $(FUZZ) >/dev/null
	@mkdir -p $(FUZZ)/corpus-hcl $(FUZZ)/corpus-fw $(FUZZ)/corpus-set $(FUZZ)/corpus-net \
		$(FUZZ)/corpus-wg_genl $(FUZZ)/corpus-wg_quick $(FUZZ)/corpus-monitor \
		$(FUZZ)/corpus-rpc $(FUZZ)/corpus-body $(FUZZ)/corpus-cfgdiff \
		$(FUZZ)/corpus-cfgedit $(FUZZ)/corpus-route $(FUZZ)/corpus-wg_rest $(FUZZ)/corpus-ws
	@cp tests/hcl/oracle/*.hcl tests/hcl/divergent/*.hcl examples/*.hcl $(FUZZ)/corpus-hcl/
	@cp tests/golden/*.hcl examples/*.hcl $(FUZZ)/corpus-fw/
	@cp tests/fuzz/set-seeds/* $(FUZZ)/corpus-set/
	@cp tests/fuzz/net-seeds/* tests/golden/*.hcl examples/*.hcl $(FUZZ)/corpus-net/
	@cp tests/fuzz/wg-genl-seeds/* $(FUZZ)/corpus-wg_genl/
	@cp tests/fuzz/wg-quick-seeds/* $(FUZZ)/corpus-wg_quick/
	@cp tests/fuzz/monitor-seeds/* $(FUZZ)/corpus-monitor/
	@cp tests/fuzz/rpc-seeds/* $(FUZZ)/corpus-rpc/
	@cp tests/fuzz/body-seeds/* $(FUZZ)/corpus-body/
	@cp tests/fuzz/cfgdiff-seeds/* $(FUZZ)/corpus-cfgdiff/
	@cp tests/fuzz/cfgedit-seeds/* $(FUZZ)/corpus-cfgedit/
	@cp tests/fuzz/route-seeds/* $(FUZZ)/corpus-route/
	@cp tests/fuzz/wg-rest-seeds/* $(FUZZ)/corpus-wg_rest/
	@cp tests/fuzz/ws-seeds/* $(FUZZ)/corpus-ws/
	@cd $(FUZZ) && for h in hcl fw set net wg_genl wg_quick monitor rpc body cfgdiff cfgedit route wg_rest ws; do \
		./tests/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		corpus-$$h >fuzz-$$h.log 2>&1; rc=$$?; tail -8 fuzz-$$h.log; \
		echo "fuzz_$$h: $(FUZZ_SECONDS)s, exit $$rc"; [ $$rc = 0 ] || exit $$rc; \
	done

# Checks the examples, then runs examples/home.hcl in a lab of network
# namespaces and proves it with real traffic (demo/lab.sh). The lab stays
# up to look around; `build/moat lab down` removes it.
demo: deps all
	@for f in examples/*.hcl; do \
		echo "==> moat check -c $$f"; \
		$(MOAT) check -c $$f || exit 1; \
	done
	@sh demo/lab.sh $(MOAT)

bench: deps all
	bench/hcl-parse.sh $(MOAT)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
