#!/bin/sh
# make demo: moat's firewall in a sandbox of network namespaces.
#
#   [wan] 203.0.113.2 ---- 203.0.113.1 [gw] 192.168.77.1 ---- 192.168.77.2 [lan]
#         eth0                   eth0      eth1                   eth0
#
# The gateway applies demo/gateway.hcl; real tools (ping, nc) show what
# passes. Everything lives in namespaces this script creates and removes.
set -u
moat=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
id=$$
gw=moatdemo-gw-$id wan=moatdemo-wan-$id lan=moatdemo-lan-$id
state=$(mktemp -d)
# moat notes each apply in $MOAT_RUN_DIR: keep the notes with the demo
export MOAT_RUN_DIR="$state/run"
pids=""

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for n in $gw $wan $lan; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

for n in $gw $wan $lan; do ip netns add "$n"; in_ns "$n" ip link set lo up; done
ip link add dw$id netns $gw type veth peer name w$id netns $wan
ip link add dl$id netns $lan type veth peer name l$id netns $gw
in_ns $gw ip link set dw$id name eth0
in_ns $gw ip link set l$id name eth1
in_ns $wan ip link set w$id name eth0
in_ns $lan ip link set dl$id name eth0
in_ns $gw ip addr add 203.0.113.1/24 dev eth0
in_ns $gw ip addr add 192.168.77.1/24 dev eth1
in_ns $wan ip addr add 203.0.113.2/24 dev eth0
in_ns $lan ip addr add 192.168.77.2/24 dev eth0
for n in $gw $wan $lan; do for i in $(in_ns $n ls /sys/class/net); do
	in_ns $n ip link set "$i" up; done; done
in_ns $lan ip route add default via 192.168.77.1
# the wan host can route to the LAN: only the firewall stops it
in_ns $wan ip route add 192.168.77.0/24 via 203.0.113.1

sed "s|@STATE@|$state|" "$here/gateway.hcl" >"$state/gateway.hcl"
cfg=$state/gateway.hcl

step "moat apply (the config: demo/gateway.hcl)"
in_ns $gw "$moat" apply -c "$cfg" || exit 1
step "moat apply again: nothing to do"
in_ns $gw "$moat" apply -c "$cfg"
step "moat status"
in_ns $gw "$moat" status -c "$cfg"

step "lan -> wan: ping 203.0.113.2 (allowed, masqueraded)"
in_ns $lan ping -c 2 -W 1 203.0.113.2 | tail -2
step "wan -> lan: ping 192.168.77.2 (dropped)"
in_ns $wan ping -c 2 -W 1 192.168.77.2 | tail -2
step "lan -> gateway ssh port: allowed by the zone's management block"
in_ns $gw nc -l -s 192.168.77.1 -p 22 </dev/null >/dev/null 2>&1 &
pids="$pids $!"
for i in $(seq 50); do	# until the listener is there, at most 5 s
	in_ns $gw ss -ltnH 'sport = :22' | grep -q . && break
	sleep 0.1
done
in_ns $lan nc -z -w 1 192.168.77.1 22 && echo "port 22 open from lan"
step "moat set add blocked 203.0.113.2: the next ping fails at once"
in_ns $gw "$moat" set add blocked 203.0.113.2
in_ns $lan ping -c 1 -W 1 203.0.113.2 | tail -2
in_ns $gw "$moat" set list blocked
in_ns $gw "$moat" set del blocked 203.0.113.2
step "the ruleset moat loaded (moat compile prints it without loading)"
in_ns $gw nft list table inet moat
printf '\nTry: %s help, %s compile -c examples/home.hcl\n' "$1" "$1"
