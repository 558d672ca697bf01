#!/bin/sh
# One element into a 100,000-element set, three ways, in the same run and
# in a network namespace of its own (unshare -n; the host's firewall is
# never touched): moat set add/del, nft add/delete element, and the bare
# netlink floor (bench/nl-setelem.c: one batch, one NEWSETELEM, one ack).
# The sets are loaded with nft -f: a hash set of 100,000 addresses and an
# interval set of 100,000 ranges.
#
# Reports medians of RUNS (default 21) of each: the time to run the
# command (spawn to exit: what a user waits for) and the time inside the
# process (moat: MOAT_TIMING=1, from its GETSET to the kernel's last answer;
# floor: building the batch to the ack), and the ratios moat/floor and
# nft/moat. NFT_RUNS (default RUNS) bounds the slow nft runs.
# Needs root. Usage: bench/fw-set.sh MOAT [RUNS]
set -eu
moat=$(realpath "$1")
runs=${2:-21}
nft_runs=${NFT_RUNS:-$runs}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2046
cc -O2 -Wall -o "$tmp/nl-setelem" "$top/bench/nl-setelem.c" \
	$(pkg-config --cflags --libs libnftnl libmnl)

exec unshare -n python3 - "$moat" "$tmp/nl-setelem" "$runs" "$nft_runs" \
	"$tmp" <<'PY'
import os, statistics, subprocess, sys, time

moat, floor, runs, nft_runs, tmp = sys.argv[1], sys.argv[2], \
    int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
N = 100_000
ELEM = "192.0.2.1"

def ip(n):
    return f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"

# 100,000 addresses; 100,000 ranges (/31 every 4 addresses: no two touch)
with open(f"{tmp}/sets.nft", "w") as f:
    f.write("table inet moat {\n  set h { type ipv4_addr; size 200000;\n"
            "    elements = { ")
    f.write(", ".join(ip(0x0a000000 + i) for i in range(N)))
    f.write(" } }\n  set iv { type ipv4_addr; flags interval;\n"
            "    elements = { ")
    f.write(", ".join(f"{ip(0x0a000000 + 4 * i)}/31" for i in range(N)))
    f.write(" } }\n}\n")
t = time.monotonic()
subprocess.run(["nft", "-f", f"{tmp}/sets.nft"], check=True)
load_s = time.monotonic() - t

def spawn(argv, env=None):
    """Runs argv; returns (wall microseconds, stderr)."""
    t0 = time.perf_counter_ns()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, env=env)
    us = (time.perf_counter_ns() - t0) / 1000
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr}")
    return us, r.stderr

timing_env = dict(os.environ, MOAT_TIMING="1")

def inproc(err):
    """The microseconds a tool printed: moat's line or the floor's."""
    for line in err.splitlines():
        w = line.split()
        if w and w[-1] == "answer" and "us" in w:
            return float(w[w.index("us") - 1])
        if line.strip().isdigit():
            return float(line)
    return None

def argv(tool, op, s, interval):
    if tool == "moat":
        return [moat, "set", "add" if op == "add" else "del", s, ELEM]
    if tool == "floor":
        return [floor, op, s, ELEM] + (["interval"] if interval else [])
    return ["nft", "add" if op == "add" else "delete", "element", "inet",
            "moat", s, "{ " + ELEM + " }"]

def check_present(s, want):
    r = subprocess.run(["nft", "get", "element", "inet", "moat", s,
                        "{ " + ELEM + " }"], capture_output=True)
    if (r.returncode == 0) != want:
        sys.exit(f"{s}: {ELEM} should {'' if want else 'not '}be there")

base = sorted(spawn(["/bin/true"])[0] for _ in range(runs))
print(f"machine: {os.cpu_count()} cpus, "
      + open("/proc/cpuinfo").read().split("model name")[1]
      .split("\n")[0].strip(" :\t")
      + f", kernel {os.uname().release}; nft -f of both sets: {load_s:.1f} s")
print(f"spawning /bin/true from this harness: "
      f"{statistics.median(base) / 1000:.2f} ms (included in every run "
      f"time below)\n")

for s, interval, what in (("h", False, "hash set of 100,000 ipv4_addr"),
                          ("iv", True, "interval set of 100,000 ranges")):
    # Once each, checked with nft: the element comes and goes.
    for tool in ("moat", "floor", "nft"):
        spawn(argv(tool, "add", s, interval), timing_env)
        check_present(s, True)
        spawn(argv(tool, "del", s, interval), timing_env)
        check_present(s, False)
    res = {}
    for i in range(max(runs, nft_runs)):
        for tool in ("moat", "floor", "nft"):
            if tool == "nft" and i >= nft_runs or tool != "nft" and i >= runs:
                continue
            for op in ("add", "del"):
                us, err = spawn(argv(tool, op, s, interval), timing_env)
                r = res.setdefault((tool, op), ([], []))
                r[0].append(us)
                if inproc(err) is not None:
                    r[1].append(inproc(err))
    med = {k: (statistics.median(v[0]),
               statistics.median(v[1]) if v[1] else None)
           for k, v in res.items()}
    print(f"{what}: one element ({ELEM}), median of {runs} "
          f"(nft: {nft_runs})")
    print(f"  {'':14}{'run (ms)':>12}{'in-process (ms)':>18}")
    for tool in ("moat", "floor", "nft"):
        for op in ("add", "del"):
            run, ip_ = med[(tool, op)]
            ips = f"{ip_ / 1000:18.3f}" if ip_ is not None else f"{'-':>18}"
            print(f"  {tool + ' ' + op:14}{run / 1000:12.3f}{ips}")
    for op in ("add", "del"):
        m, f_, n = med[("moat", op)], med[("floor", op)], med[("nft", op)]
        print(f"  {op}: moat/floor run {m[0] / f_[0]:.2f}x, in-process "
              f"{m[1] / f_[1]:.2f}x; nft/moat run {n[0] / m[0]:.0f}x")
    print()
PY
