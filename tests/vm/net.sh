#!/bin/sh
# Inside the VM (stock kernel, 8021q): VLAN sub-interfaces made by moat,
# checked with ip and with traffic to a peer whose VLAN ip made.
#
#   [gw] veth0 ---- veth0 [peer]
#        veth0.20 (moat, 10.20.0.1/24)    veth0.20 (ip, 10.20.0.2/24)
#        veth0.30 (moat, vlan block)      veth0.30 (ip, 10.30.0.2/24)
set -eu
moat=$1
fail=0
tmp=$(mktemp -d)
gw=moat-vm-gw peer=moat-vm-peer
cleanup() { ip netns del $gw 2>/dev/null; ip netns del $peer 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
check() { what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

modprobe 8021q
ip netns add $gw
ip netns add $peer
ip -n $gw link set lo up
ip -n $peer link set lo up
ip -n $gw link add veth0 type veth peer name veth0 netns $peer
ip -n $peer link set veth0 up
for v in 20 30; do
	ip -n $peer link add link veth0 name veth0.$v type vlan id $v
	ip -n $peer addr add 10.$v.0.2/24 dev veth0.$v
	ip -n $peer link set veth0.$v up
done

cat >"$tmp/moat.hcl" <<HCL
state_dir = "$tmp/state"
interface "veth0" {
  vlan "30" {
    ipv4 = ["10.30.0.1/24"]
    mtu  = 1400
  }
}
interface "veth0.20" {
  ipv4 = ["10.20.0.1/24"]
}
HCL
export MOAT_RUN_DIR="$tmp/run"
run() { ip netns exec $gw "$moat" "$@"; }
vlan_of() {
	ip -n $gw -j -d link show dev "$1" 2>/dev/null |
		python3 -c 'import json,sys; l=json.load(sys.stdin)[0]; i=l["linkinfo"]; print(i["info_kind"], i["info_data"]["id"], l["link"], l["mtu"], "UP" in l["flags"])'
}

check "apply creates the VLANs" run apply -c "$tmp/moat.hcl"
[ "$(vlan_of veth0.20)" = "vlan 20 veth0 1500 True" ] && ok "veth0.20 is VLAN 20 on veth0, up" || bad "veth0.20: $(vlan_of veth0.20)"
[ "$(vlan_of veth0.30)" = "vlan 30 veth0 1400 True" ] && ok "veth0.30 is VLAN 30 on veth0, MTU 1400, up" || bad "veth0.30: $(vlan_of veth0.30)"
check "traffic over VLAN 20 (peer made by ip)" ip netns exec $gw ping -c1 -W3 10.20.0.2
check "traffic over VLAN 30" ip netns exec $gw ping -c1 -W3 10.30.0.2
out=$(run apply -c "$tmp/moat.hcl")
case $out in *unchanged*) ok "a second apply changes nothing" ;; *) bad "second apply: $out" ;; esac

# someone else's VLAN on the same parent survives
ip -n $gw link add link veth0 name veth0.40 type vlan id 40
sed -i '/^interface "veth0.20"/,/^}/d' "$tmp/moat.hcl"
check "apply without veth0.20" run apply -c "$tmp/moat.hcl"
check "veth0.20 is gone" sh -c "! ip -n $gw link show dev veth0.20"
check "veth0.30 stays" ip -n $gw link show dev veth0.30
check "veth0.40 (not moat's) stays" ip -n $gw link show dev veth0.40

# a VLAN that exists as something else is a located error, nothing changes
ip -n $gw link del veth0.40
ip -n $gw link add veth0.40 type veth peer name x40
printf 'interface "veth0.40" {\n  ipv4 = ["10.40.0.1/24"]\n}\n' >>"$tmp/moat.hcl"
if out=$(run apply -c "$tmp/moat.hcl" 2>&1); then bad "apply over a non-VLAN veth0.40 succeeded: $out"; else
	case $out in *moat.hcl:*veth0.40*) ok "a non-VLAN in the way is a located error" ;; *) bad "error: $out" ;; esac; fi
check "veth0.30 untouched after the refused apply" ip netns exec $gw ping -c1 -W3 10.30.0.2
exit $fail
