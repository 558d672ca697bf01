#!/bin/sh
# moat ctl's integrity monitor: how long from someone else's change to
# table inet moat until ctl has put it back, and ctl's memory when idle.
#   bench/ctl-tamper.sh build/moat [TAMPERS]     (root; about a minute)
# Everything runs in a network namespace of its own (removed at the end).
# The observer is `nft monitor`, the reference tool: it prints each
# committed generation with the process that made it; a thread stamps each
# line as it arrives, and the time runs from the tamper's generation (by
# nft) to the restore's (by moat). The comparison: Flywall checks its ruleset by polling every
# 2 s, so its mean time to notice is 1,000 ms and its worst 2,000 ms.
set -eu
MOAT=$(realpath "${1:?usage: bench/ctl-tamper.sh path/to/moat [TAMPERS]}")
N=${2:-100}
NS=moat-bench-ctl-$$
DIR=$(mktemp -d /tmp/moat-bench-ctl.XXXXXX)
cleanup() {
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth1
cat >"$DIR/moat.hcl" <<HCL
state_dir = "$DIR/state"
interface "eth0" {
  ipv4 = ["192.0.2.2/24"]
}
interface "eth1" {
  ipv4 = ["10.0.0.1/24"]
}
policy "eth1" "self" {
  action = "accept"
}
policy "eth0" "self" {
  rule "ssh" {
    proto     = "tcp"
    dest_port = 22
    action    = "accept"
  }
}
policy "eth1" "eth0" {
  action = "accept"
}
api {
  listen = "127.0.0.1:18081"
}
HCL
export MOAT_RUN_DIR="$DIR/run"
ip netns exec "$NS" "$MOAT" ctl -c "$DIR/moat.hcl" 2>"$DIR/ctl.log" &
CTL=$!
i=0
until ip netns exec "$NS" "$MOAT" revisions >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$DIR/ctl.log"; exit 1; }
	sleep 0.05
done
ip netns exec "$NS" python3 - "$N" "$CTL" <<'PY'
import queue, statistics, subprocess, sys, threading, time
n, ctl = int(sys.argv[1]), int(sys.argv[2])
mon = subprocess.Popen(["stdbuf", "-oL", "nft", "monitor"], stdout=subprocess.PIPE,
                       text=True, bufsize=1)
time.sleep(0.5)   # let the monitor subscribe
def idle_memory():
    st = dict(l.split(":", 1) for l in open(f"/proc/{ctl}/status"))
    pss = [l for l in open(f"/proc/{ctl}/smaps_rollup") if l.startswith("Pss:")]
    return st["VmRSS"].strip(), pss[0].split(":", 1)[1].strip()
rss0, pss0 = idle_memory()
out, cmd = [], []
tampers = [["nft", "flush", "table", "inet", "moat"],
           ["nft", "flush", "chain", "inet", "moat", "input"],
           ["nft", "delete", "table", "inet", "moat"]]
# a thread stamps each line as it arrives: the main thread is busy
# running the tamper when the restore is printed
lines = queue.Queue()
def reader():
    for line in mon.stdout:
        lines.put((time.monotonic(), line))
threading.Thread(target=reader, daemon=True).start()
for i in range(n):
    t_start = time.monotonic()
    subprocess.run(tampers[i % len(tampers)], check=True)
    cmd.append((time.monotonic() - t_start) * 1000)
    t_tamper = t_restore = None
    while t_restore is None:
        now, line = lines.get(timeout=10)
        if line.startswith("# new generation"):
            if "(nft)" in line and t_tamper is None:
                t_tamper = now
            elif "(moat)" in line and t_tamper is not None:
                t_restore = now
    out.append((t_restore - t_tamper) * 1000)
    time.sleep(0.05)   # let ctl drain its own events before the next
mon.kill()
out.sort()
med = statistics.median(out)
p99 = out[min(len(out) - 1, int(len(out) * 0.99))]
rss1, pss1 = idle_memory()
print(f"tamper -> restore over {n} tampers (flush table, flush chain, "
      f"delete table): median {med:.1f} ms, p99 {p99:.1f} ms, "
      f"max {out[-1]:.1f} ms (between the two commits as nft monitor "
      f"sees them; the tampering nft command takes "
      f"{statistics.median(cmd):.1f} ms median)")
print(f"against a 2 s poll (Flywall): mean 1000 ms -> {1000 / med:.0f}x "
      f"faster at the median; worst 2000 ms -> {2000 / p99:.0f}x at p99")
print(f"ctl idle memory: VmRSS {rss0} (PSS {pss0}) at start, "
      f"VmRSS {rss1} (PSS {pss1}) after the tampers (goal: under 10 MB)")
PY
kill -TERM "$CTL"
wait "$CTL" || true
