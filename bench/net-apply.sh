#!/bin/sh
# 10,000 static routes, moat against ip itself, in the same run: a cold
# `moat apply` (link up, address, 10,000 routes, the firewall) against
# `ip -batch` of the same 10,000 routes (`proto 77`, as moat marks its
# own), each into a fresh network namespace; then, with the routes in
# place, the no-op apply (goal: under 50 ms), the no-op after `touch`
# (the fast path skipped: parse, compile, dump, diff) and the apply that
# repairs one route deleted by hand.
#
# Everything runs in network namespaces this script creates (ip netns
# add) and deletes on exit, never in the host's; needs root. Each
# namespace holds a veth pair v0-v1 (v1 up); moat configures v0 from the
# config, ip's side gets v0 up with 192.0.2.2/24 by ip before the batch.
# About half a minute. Usage: bench/net-apply.sh MOAT [REPS [NOOP_REPS]]
set -eu
moat_src=$(realpath "$1")
reps=${2:-5}
noop_reps=${3:-50}
slow_reps=11	# the touched no-op and the repair
n=10000
[ "$(id -u)" = 0 ] || { echo "net-apply: needs root" >&2; exit 2; }
command -v ip >/dev/null || { echo "net-apply: needs ip" >&2; exit 2; }

tmp=$(mktemp -d)
# a copy: the build may be redone while this runs
moat=$tmp/moat
cp "$moat_src" "$moat"
ns_pre=moatbench-net-$$
cleanup() {
	for ns in $(ip netns list | awk '{ print $1 }'); do
		case $ns in "$ns_pre"-*) ip netns del "$ns" ;; esac
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# moat notes each apply in $MOAT_RUN_DIR: keep those notes with the rest
export MOAT_RUN_DIR="$tmp/run"
cfg=$tmp/moat.hcl bare=$tmp/bare.hcl batch=$tmp/routes.batch

# the config (a permissive firewall, v0 with its address, n routes), the
# same without the routes, and the routes as an ip batch
python3 - "$n" "$tmp" <<'PY'
import sys
n, tmp = int(sys.argv[1]), sys.argv[2]
head = f'''state_dir = "{tmp}/state"

policy "v0" "self" {{
  action = "accept"
}}

interface "v0" {{
  ipv4 = ["192.0.2.2/24"]
}}
'''
nets = ["10.%d.%d.0/24" % (i >> 8, i & 255) for i in range(n)]
with open(f"{tmp}/bare.hcl", "w") as f:
    f.write(head)
with open(f"{tmp}/moat.hcl", "w") as f:
    f.write(head)
    for i, d in enumerate(nets):
        f.write(f'\nroute "r{i}" {{\n  destination = "{d}"\n'
                f'  gateway     = "192.0.2.1"\n}}\n')
with open(f"{tmp}/routes.batch", "w") as f:
    for d in nets:
        f.write(f"route add {d} via 192.0.2.1 proto 77\n")
PY

# timeit NS [--pre CMD] REPS CMD...: runs, inside namespace NS, the
# commands REPS times, interleaved (A B A B ...), and prints each one's
# median wall ms. Every run is a fresh process, exec included; the --pre
# command runs untimed before each.
cat >"$tmp/timeit.py" <<'PY'
import os, shlex, subprocess, sys, tempfile, time
err = tempfile.TemporaryFile()
a = sys.argv[1:]
pre = None
if a[0] == "--pre":
    pre, a = shlex.split(a[1]), a[2:]
reps, cmds = int(a[0]), [shlex.split(c) for c in a[1:]]
ms = [[] for _ in cmds]
for _ in range(reps):
    for i, c in enumerate(cmds):
        if pre:
            subprocess.run(pre, check=True, stdout=subprocess.DEVNULL)
        t = time.perf_counter_ns()
        p = subprocess.Popen(c, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err)
        _, st, _ = os.wait4(p.pid, 0)
        ms[i].append((time.perf_counter_ns() - t) / 1e6)
        if os.waitstatus_to_exitcode(st):
            err.seek(0)
            sys.exit("failed: %s\n%s" % (" ".join(c), err.read().decode()))
        err.seek(0)
        err.truncate()
med = []
for v in ms:
    v.sort()
    k = len(v)
    med.append(v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2)
print(" ".join("%.1f" % x for x in med))
PY
timeit() {
	_ns=$1
	shift
	ip netns exec "$_ns" python3 "$tmp/timeit.py" "$@"
}
median() {
	sort -n | awk '{ v[NR] = $1 }
		END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# mkns NAME [ip]: a fresh namespace with the veth pair, v1 up; with "ip",
# v0 also up with its address (what moat does itself from the config)
nsi=0
mkns() {
	nsi=$((nsi + 1))
	ns=$ns_pre-$1-$nsi
	ip netns add "$ns"
	ip -n "$ns" link add v0 type veth peer name v1
	ip -n "$ns" link set v1 up
	if [ "${2:-}" = ip ]; then
		ip -n "$ns" addr add 192.0.2.2/24 dev v0
		ip -n "$ns" link set v0 up
	fi
}
count() { ip -n "$1" -4 route show proto 77 | wc -l; }
need_routes() {
	c=$(count "$1")
	[ "$c" = "$n" ] || { echo "net-apply: $2: $c routes with proto 77" \
		"in $1, not $n" >&2; exit 1; }
}
# a fresh state: state_dir and the run notes of the last namespace go
fresh() { rm -rf "$tmp/state" "$MOAT_RUN_DIR"; }
# deleting a namespace with 10,000 routes goes on in the kernel's
# workqueue; let it finish before the next timed run
settle() { ip netns del "$1"; sleep 0.5; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	"kernel $(uname -r), $(ip -V | sed 's/ip utility, //')"
echo "$("$moat" --version), HEAD at $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
mkns base
t=$(timeit "$ns" 50 /bin/true)
settle "$ns"
echo "process start baseline (/bin/true): $t ms; load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg) (other work skews the times)"

# 1. cold: moat apply and ip -batch, each into a fresh namespace, in turn
: >"$tmp/m" ; : >"$tmp/i" ; : >"$tmp/b"
for r in $(seq "$reps"); do
	fresh
	mkns moat
	timeit "$ns" 1 "$moat apply -c $cfg" >>"$tmp/m"
	need_routes "$ns" "moat apply, run $r"
	settle "$ns"
	mkns ip ip
	timeit "$ns" 1 "ip -batch $batch" >>"$tmp/i"
	need_routes "$ns" "ip -batch, run $r"
	settle "$ns"
	# moat's fixed costs: the same config without the routes
	fresh
	mkns bare
	timeit "$ns" 1 "$moat apply -c $bare" >>"$tmp/b"
	settle "$ns"
done
m=$(median <"$tmp/m") i=$(median <"$tmp/i") b=$(median <"$tmp/b")

# 2. with the routes in place: the no-ops and the repair of one route
fresh
mkns warm
ip netns exec "$ns" "$moat" apply -c "$cfg" >/dev/null
need_routes "$ns" "moat apply"
out=$(ip netns exec "$ns" "$moat" apply -c "$cfg")
case $out in "network: unchanged"*) ;; *)
	echo "net-apply: the no-op apply said: $out" >&2; exit 1 ;; esac
z=$(timeit "$ns" "$noop_reps" "$moat apply -c $cfg")
zt=$(timeit "$ns" --pre "touch $cfg" "$slow_reps" "$moat apply -c $cfg")
ip -n "$ns" route del 10.19.136.0/24	# r5000
out=$(ip netns exec "$ns" "$moat" apply -c "$cfg")
case $out in *"network: applied: +1 route"*) ;; *)
	echo "net-apply: the repair said: $out" >&2; exit 1 ;; esac
need_routes "$ns" "the repair"
zr=$(timeit "$ns" --pre "ip route del 10.19.136.0/24" "$slow_reps" \
	"$moat apply -c $cfg")
need_routes "$ns" "the repairs"
# for comparison: parse and validate only; compile; ip's dump of the routes
p=$(timeit "$ns" "$reps" "$moat check -c $cfg" "$moat compile -c $cfg" \
	"ip -4 route show proto 77")
read -r chk cmp dump <<-EOF
	$p
	EOF
settle "$ns"

echo "median wall ms, process exec included; cold: $reps runs, each in a" \
	"fresh namespace; no-op: $noop_reps; touched and repair: $slow_reps"
echo
row() { printf '%-40s %9s %9s\n' "$@"; }
row "" moat "ip -batch"
row "cold: 10,000 routes into a fresh netns" "$m" "$i"
row "  moat/ip" "$(ratio "$m" "$i")" ""
row "  moat, the config without the routes" "$b" ""
row "no-op, file unchanged (fast path)" "$z" ""
row "no-op, file touched (full parse + diff)" "$zt" ""
row "one route deleted by hand, repaired" "$zr" ""
row "moat check (parse, validate)" "$chk" ""
row "moat compile (parse, compile firewall)" "$cmp" ""
row "ip -4 route show proto 77 (dump)" "" "$dump"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
goal=met
awk -v z="$z" 'BEGIN { exit !(z >= 50) }' && goal="missed"
echo "goal, the no-op apply under 50 ms: $goal ($z ms)"
