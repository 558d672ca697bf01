#!/bin/sh
# Inside the VM (stock kernel, wireguard module): the kernel backend
# (src/wg/genl.c) driven by build/tests/vm/wg_genl_drive in a network
# namespace, each step checked with the real tools (wg, ip). Builds
# nothing. From the host:
#   ../shared/tools/vm-run -- sh tests/vm/wg_genl_smoke.sh \
#       "$PWD/build/tests/vm/wg_genl_drive"
set -u
[ $# -eq 1 ] || { echo "usage: sh wg_genl_smoke.sh path/to/wg_genl_drive" >&2; exit 2; }
drive=$1
ns=moat-wg-genl
fail=0
tmp=$(mktemp -d)
cleanup() { ip netns del $ns 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
check() { what=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$tmp/out"; fi; }
# rc WHAT WANT CMD...: CMD exits with WANT
rc() { what=$1 want=$2; shift 2; "$@" >"$tmp/out" 2>&1; got=$?
	if [ $got = $want ]; then ok "$what"; else bad "$what (exit $got, want $want)"; sed 's/^/     /' "$tmp/out"; fi; }
same() { if cmp -s "$2" "$3"; then ok "$1"; else bad "$1"; diff "$2" "$3" | head -20 | sed 's/^/     /'; fi; }
d() { ip netns exec $ns "$drive" "$@"; }
w() { ip netns exec $ns wg "$@"; }
tab=$(printf '\t')

# (vm-run's console may swallow the first line: say something first)
echo "wg_genl_smoke: kernel $(uname -r)"
ip netns add $ns

# The link: made by rtnetlink (the module loads on demand), twice refused.
lsmod | grep -q '^wireguard ' && echo "note: wireguard already loaded"
check "link add wgt0" d add wgt0
check "wgt0 is a wireguard link" sh -c "ip -n $ns -d link show wgt0 | grep -qw wireguard"
rc "link add wgt0 again: EEXIST" 17 d add wgt0
check "genl family resolves" d avail

# Device fields and two peers in one change.
priv=$(wg genkey); pub=$(echo "$priv" | wg pubkey)
p1=$(wg genkey | wg pubkey); p2=$(wg genkey | wg pubkey); psk=$(wg genpsk)
check "set: key, port, fwmark, two peers" d set wgt0 private-key="$priv" \
	port=51820 fwmark=0x42 \
	peer="$p1" psk="$psk" endpoint=192.0.2.1:51820 keepalive=25 \
	allowed=10.0.0.0/24,fd00::/64 \
	peer="$p2" endpoint=[2001:db8::1]:443 allowed=10.1.0.0/16
w show wgt0 dump >"$tmp/wg"
printf '%s\n' \
	"$priv$tab$pub${tab}51820${tab}0x42" \
	"$p1$tab$psk${tab}192.0.2.1:51820${tab}10.0.0.0/24,fd00::/64${tab}0${tab}0${tab}0${tab}25" \
	"$p2$tab(none)$tab[2001:db8::1]:443${tab}10.1.0.0/16${tab}0${tab}0${tab}0${tab}off" \
	>"$tmp/want"
same "wg show dump is what was set" "$tmp/want" "$tmp/wg"
d get wgt0 >"$tmp/get"
same "get reads the same as wg show dump" "$tmp/wg" "$tmp/get"

# A delta: one peer removed, the other untouched.
check "set: remove peer 1" d set wgt0 peer="$p1" remove
w show wgt0 dump >"$tmp/wg"
sed -n '1p;3p' "$tmp/want" >"$tmp/want2"
same "only peer 2 is left, as it was" "$tmp/want2" "$tmp/wg"
d get wgt0 >"$tmp/get"
same "get agrees" "$tmp/wg" "$tmp/get"

# Allowed IPs replaced by none; a psk set, then cleared; keepalive and
# endpoint alone.
check "set: psk on peer 2" d set wgt0 peer="$p2" psk="$psk"
rc "wg shows the psk" 0 sh -c "ip netns exec $ns wg show wgt0 preshared-keys | grep -qF -- '$psk'"
check "set: psk cleared, allowed IPs none, keepalive, endpoint" \
	d set wgt0 peer="$p2" psk= allowed= keepalive=7 endpoint=198.51.100.7:9
w show wgt0 dump | sed -n 2p >"$tmp/wg"
echo "$p2$tab(none)${tab}198.51.100.7:9$tab(none)${tab}0${tab}0${tab}0${tab}7" >"$tmp/want"
same "peer 2: no psk, no allowed IPs, keepalive 7, new endpoint" "$tmp/want" "$tmp/wg"

# Many peers and one with thousands of allowed IPs: the change goes in
# several messages (a peer continued across them), the dump comes back
# in several too.
python3 - "$tmp" <<'PY'
import base64, os, sys
tmp = sys.argv[1]
def key(): return base64.b64encode(os.urandom(32)).decode()
args, want = [], []
for i in range(200):
    k = key()
    ips = ["10.%d.%d.0/24" % (100 + i // 250, i % 250), "fd10::%x:0/112" % (i + 1), "10.%d.%d.128/25" % (100 + i // 250, i % 250)]
    args += ["peer=" + k, "keepalive=%d" % (i + 1), "allowed=" + ",".join(ips)]
    want.append((k, ips))
    if i == 100:
        k = key()
        ips = ["172.%d.%d.%d/32" % (16 + n // 65536, n // 256 % 256, n % 256) for n in range(3000)]
        args += ["peer=" + k, "allowed=" + ",".join(ips)]
        want.append((k, ips))
open(tmp + "/big-args", "w").write("\n".join(args) + "\n")
# wg show allowed-ips: the key, a tab, the prefixes by spaces
open(tmp + "/big-want", "w").write("".join("%s\t%s\n" % (k, " ".join(ips)) for k, ips in want))
PY
check "set: 201 peers, one with 3000 allowed IPs" \
	sh -c "set -f; exec ip netns exec $ns '$drive' set wgt0 \$(cat '$tmp/big-args')"
w show wgt0 allowed-ips | grep -v "^$p2" >"$tmp/wg"
same "wg shows every peer and allowed IP, in order" "$tmp/big-want" "$tmp/wg"
w show wgt0 dump >"$tmp/wg"
d get wgt0 >"$tmp/get"
same "get of 202 peers (a dump of several messages) agrees" "$tmp/wg" "$tmp/get"
check "set: port alone" d set wgt0 port=51821
rc "peers untouched by a device field" 0 sh -c "[ \$(ip netns exec $ns wg show wgt0 peers | wc -l) = 202 ] && ip netns exec $ns wg show wgt0 listen-port | grep -qx 51821"

# Deleting: never a link that is not wireguard; then wgt0, once.
ip -n $ns link add d0 type dummy
rc "link del of a dummy: refused (EINVAL)" 22 d del d0
check "the dummy is still there" ip -n $ns link show d0
check "link del wgt0" d del wgt0
rc "wgt0 is gone" 1 ip -n $ns link show wgt0
rc "link del wgt0 again: ENODEV" 19 d del wgt0
rc "get wgt0: ENODEV" 19 d get wgt0

[ $fail = 0 ] && echo "wg_genl_smoke: all ok" || echo "wg_genl_smoke: FAILED"
exit $fail
