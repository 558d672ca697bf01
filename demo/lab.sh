#!/bin/sh
# make demo: moat as the gateway of examples/home.hcl, in a lab of network
# namespaces (moat lab), proved with real traffic from real tools.
#
#   [wan] the internet, 198.51.100.10 --- eth0 [gw] eth1 --- [lan1] 10.0.0.2
#         (web and DNS server)                 eth2 --- [lan2] 10.0.20.2
#                                              eth3 --- [lan3] 10.0.30.2
#                                              eth4 --- [lan4] 10.0.50.10 (DMZ)
#
# The lab stays up afterwards for the user to look around; running the
# demo again starts from a clean lab. Exits 1 when a check fails.
set -u
moat=$1
cfg=examples/home.hcl
internet=198.51.100.10 gw_wan=198.51.100.2 lan1=10.0.0.2 dmz=10.0.50.10
log=${MOAT_RUN_DIR:-/run/moat}/lab/log/wan-http-80.log
failed=0

step() { printf '\n==> %s\n' "$*"; }
check() {	# check "what it shows" command...
	what=$1; shift
	if "$@" >/dev/null 2>&1; then
		printf 'ok      %s\n' "$what"
	else
		printf 'FAILED  %s\n' "$what"; failed=1
	fi
}
in_lab() { "$moat" lab exec "$@"; }

# no answer: curl timed out (28) or was refused (7), ping got no reply (1);
# anything else (the lab itself failing) is not "blocked"
blocked() {	# blocked NODE curl|ping ARGS...
	node=$1; shift
	in_lab "$node" "$@"
	case $1:$? in curl:7 | curl:28 | ping:1) return 0 ;; esac
	return 1
}

# what the server answers, when it is what it should say
says() {	# says NODE URL TEXT
	in_lab "$1" curl -s --max-time 3 "$2" | grep -qxF "$3"
}

# the internet's web server logged the request from the gateway's address
seen_from() {	# seen_from ADDR PATH
	grep -q "^$1 .*\"GET $2 " "$log"
}

"$moat" lab down >/dev/null || exit 1
step "moat lab up -c $cfg"
"$moat" lab up -c "$cfg" || exit 1

step "the gateway's status (moat lab status shows it, after the nodes)"
"$moat" lab status | sed -n '/^gw: moat status/,$p' | sed 1d

step "real traffic through the gateway (curl and ping in the namespaces)"
check "lan1 -> internet: curl http://$internet/ is answered" \
	says lan1 "http://$internet/" "moat lab: hello from the internet ($internet)"
path=/moat-demo-$$
in_lab lan1 curl -s --max-time 3 "http://$internet$path" >/dev/null
check "NAT: the internet saw the request come from the gateway ($gw_wan), not $lan1" \
	seen_from "$gw_wan" "$path"
check "internet -> lan1: curl http://$lan1/ is blocked (lan1 serves it)" \
	blocked wan curl -s --max-time 3 "http://$lan1/"
check "internet -> lan1: ping $lan1 is blocked" \
	blocked wan ping -c 1 -W 1 "$lan1"
check "internet -> $gw_wan:80: the port forward reaches the DMZ server $dmz:8080" \
	says wan "http://$gw_wan/" "moat lab: hello from lan4 ($dmz)"
check "lan2 (iot) -> lan1: blocked by policy iot->lan" \
	blocked lan2 curl -s --max-time 3 "http://$lan1/"

step "the lab is still up: look around"
cat <<EOF
  $moat lab exec lan1 curl http://$internet/
  $moat lab exec wan curl --max-time 3 http://$lan1/     # blocked
  $moat lab exec gw nft list table inet moat
  $moat lab status
  $moat lab down                                  # removes it all
EOF
[ $failed = 0 ] || { echo; echo "demo: some checks FAILED"; exit 1; }
