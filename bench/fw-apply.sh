#!/bin/sh
# Loading the firewall against nft itself, in the same run: `moat apply
# --force` of a config versus `nft -f` of exactly the ruleset moat compiles
# it to (the same libnftables does the work in both), for 10,000 rules, a
# 100,000-address hash set and a 100,000-network interval set. Also the
# compile-only time and the no-op apply (unchanged config), whose target is
# 5 ms. Runs in a network namespace of its own, so the host's firewall is
# never touched; needs root. Takes two to three minutes.
# Usage: bench/fw-apply.sh MOAT [REPS [NOOP_REPS]]
set -eu
moat=$(realpath "$1")
reps=${2:-5}
noop_reps=${3:-50}
here=$(cd "$(dirname "$0")" && pwd)

# Everything below runs in a fresh network namespace: its nftables ruleset
# is empty and goes away with the last process in it.
if [ "${MOAT_BENCH_NETNS:-}" != "$$" ]; then
	[ "$(id -u)" = 0 ] || { echo "fw-apply: needs root" >&2; exit 2; }
	command -v nft >/dev/null || { echo "fw-apply: needs nft" >&2; exit 2; }
	exec unshare -n sh -c \
		'export MOAT_BENCH_NETNS=$$; exec sh "$0" "$@"' "$0" "$@"
fi
[ -z "$(nft list ruleset)" ] || { echo "fw-apply: netns not empty" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# moat notes each apply in $MOAT_RUN_DIR: keep those notes with the rest
export MOAT_RUN_DIR="$tmp/run"

# timeit [--pre CMD] REPS CMD...: runs the commands REPS times, interleaved
# (A B A B ...), and prints per command "median_ms max_rss_mb". Each run is
# a fresh process, exec included; CMD --pre runs untimed before each.
timeit() {
	python3 -c '
import os, shlex, subprocess, sys, tempfile, time
err = tempfile.TemporaryFile()
a = sys.argv[1:]
pre = None
if a[0] == "--pre":
    pre, a = shlex.split(a[1]), a[2:]
reps, cmds = int(a[0]), [shlex.split(c) for c in a[1:]]
ms = [[] for _ in cmds]
rss = [0] * len(cmds)
for _ in range(reps):
    for i, c in enumerate(cmds):
        if pre:
            subprocess.run(pre, check=True, stdout=subprocess.DEVNULL)
        t = time.perf_counter_ns()
        p = subprocess.Popen(c, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=err)
        _, st, ru = os.wait4(p.pid, 0)
        ms[i].append((time.perf_counter_ns() - t) / 1e6)
        if os.waitstatus_to_exitcode(st):
            err.seek(0)
            sys.exit("failed: %s\n%s" % (" ".join(c), err.read().decode()))
        err.seek(0)
        err.truncate()
        rss[i] = max(rss[i], ru.ru_maxrss)
for v, r in zip(ms, rss):
    v.sort()
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    print("%.1f %.0f" % (med, r / 1024), end=" ")
print()' "$@"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	"kernel $(uname -r), $(nft --version)"
t=$(timeit 50 /bin/true)
echo "process start baseline (/bin/true): ${t%% *} ms;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg) (other work skews the times)"
echo "median wall ms of $reps runs (no-op: $noop_reps, no-op*: 10), process exec included;"
echo "peak RSS in MB"
echo
row() { printf '%-13s %8s %8s %8s %8s %8s %7s %7s %7s %7s\n' "$@"; }
row config "moat" "nft" moat/nft compile check no-op "no-op*" "moat MB" "nft MB"
for what in "home example" "rules 10000" "addrs 100000" "cidrs 100000"; do
	set -- $what
	cfg=$tmp/$1.hcl nft=$tmp/$1.nft
	if [ "$1" = home ]; then	# a small config, for the fixed costs
		sed "s|^state_dir .*|state_dir = \"$tmp/state\"|" \
			"$here/../examples/home.hcl" >"$cfg"
	else
		python3 "$here/gen-fw-config.py" "$1" "$2" "$tmp/state" >"$cfg"
	fi
	{ printf 'table inet moat\ndelete table inet moat\n'; "$moat" compile -c "$cfg"; } >"$nft"

	# both load the same ruleset: compare what the kernel holds
	nft -f "$nft"
	a=$(nft list table inet moat | md5sum)
	"$moat" apply -c "$cfg" --force >/dev/null
	b=$(nft list table inet moat | md5sum)
	[ "$a" = "$b" ] || { echo "fw-apply: $1: moat and nft load different tables" >&2; exit 1; }

	# replacing a table that holds the same ruleset, as a reload does
	r=$(timeit "$reps" "$moat apply -c $cfg --force" "nft -f $nft")
	read -r m mr n nr <<-EOF
	$r
	EOF
	c=$(timeit "$reps" "$moat compile -c $cfg")
	p=$(timeit "$reps" "$moat check -c $cfg")
	"$moat" apply -c "$cfg" >/dev/null	# notes the generation in fw.state
	z=$(timeit "$noop_reps" "$moat apply -c $cfg")
	# no-op*: after someone else committed to nftables (another table),
	# the generation differs and moat counts the table's contents
	zs=$(timeit --pre "nft 'add table ip bump; delete table ip bump'" 10 \
		"$moat apply -c $cfg")
	c=${c%% *} p=${p%% *} z=${z%% *} zs=${zs%% *}
	row "$1 $2" "$m" "$n" "$(ratio "$m" "$n")" "$c" "$p" "$z" "$zs" "$mr" "$nr"
done

# Where nft's (and so moat's) load time goes, nft alone: two variants of the
# rulesets above, each timed against the original.
sed '/^[[:space:]]*auto-merge$/d' "$tmp/cidrs.nft" >"$tmp/cidrs-nomerge.nft"
sed -E 's/dport \{ ([0-9]+)[^}]*\}/dport \1/; s/meta l4proto \{ tcp, udp \} th/tcp/' \
	"$tmp/rules.nft" >"$tmp/rules-noset.nft"
anon=$(grep -cE 'dport \{|l4proto \{' "$tmp/rules.nft")
nft -f "$tmp/cidrs.nft"
r=$(timeit "$reps" "nft -f $tmp/cidrs.nft" "nft -f $tmp/cidrs-nomerge.nft")
set -- $r
echo
echo "cidrs, nft -f with auto-merge: $1 ms; the same set without it: $3 ms"
nft -f "$tmp/rules.nft"
r=$(timeit "$reps" "nft -f $tmp/rules.nft" "nft -f $tmp/rules-noset.nft")
set -- $r
echo "rules, nft -f: $1 ms; with the $anon rules holding an anonymous set"
echo "  ({ 80, 443 }, meta l4proto { tcp, udp }) cut to one value: $3 ms"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "moat/nft < 1: moat is faster. compile: moat compile (parse, validate,"
echo "compile, print); check: moat check (parse and validate only)."
echo "no-op: moat apply on an unchanged config (target: under 5 ms)."
echo "no-op*: the same after another table changed (generation bumped)."
