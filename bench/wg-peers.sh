#!/bin/sh
# 10,000 WireGuard peers onto a wireguard-go device, three ways, in the
# same run, each on a fresh device in a network namespace of its own:
#   wg set     one `wg set DEV peer K allowed-ips A` per peer
#   setconf    one `wg setconf` of all of them (one transaction)
#   moat       `moat wg peer add DEV --from FILE`: one peer at a time as
#              the API will add them, each its own SQLite transaction and
#              its own UAPI change (never the whole list)
# and moat's own memory per peer: the peak RSS of `moat wg peer list
# --json` (the store's peers and the device's, both in memory) with N
# peers against one with none, divided by N.
# Needs root, wireguard-go and wg. Usage: bench/wg-peers.sh MOAT [N]
set -eu
moat=$(realpath "$1")
n=${2:-10000}
exec python3 - "$moat" "$n" <<'PY'
import os, subprocess, sys, tempfile, time

moat, n = sys.argv[1], int(sys.argv[2])
tmp = tempfile.mkdtemp(prefix="moat-bench-wg-")
ns = f"moatbench{os.getpid()}"
devs = []


def sh(*argv, **kw):
    return subprocess.run(["ip", "netns", "exec", ns, *map(str, argv)],
                          check=True, capture_output=True, text=True, **kw)


def allowed(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"


def fresh(tag):
    name = f"mb{os.getpid() % 10000}{tag}"
    devs.append(name)
    sh("wireguard-go", name)
    return name


def maxrss(argv):
    p = subprocess.Popen(["ip", "netns", "exec", ns, *argv],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return ru.ru_maxrss  # KiB (of the largest of ip and moat: moat's)


subprocess.run(["ip", "netns", "add", ns], check=True)
try:
    sh("ip", "link", "set", "lo", "up")
    t0 = time.monotonic()
    # the keys, made with the real tools, outside the timings
    gen = subprocess.run(
        ["sh", "-c", f"i=0; while [ $i -lt {n} ]; do k=$(wg genkey); "
         f"echo $k | wg pubkey; i=$((i+1)); done"],
        capture_output=True, text=True, check=True).stdout.split()
    assert len(gen) == n
    print(f"keys: {n} made with wg genkey/pubkey in "
          f"{time.monotonic() - t0:.1f} s (not timed below)")

    # wg set, one peer per command
    d = fresh("a")
    t0 = time.monotonic()
    for i, k in enumerate(gen):
        sh("wg", "set", d, "peer", k, "allowed-ips", allowed(i))
    t_set = time.monotonic() - t0

    # one setconf
    d = fresh("b")
    conf = os.path.join(tmp, "all.conf")
    with open(conf, "w") as f:
        f.write("[Interface]\n")
        for i, k in enumerate(gen):
            f.write(f"[Peer]\nPublicKey = {k}\nAllowedIPs = {allowed(i)}\n")
    t0 = time.monotonic()
    sh("wg", "setconf", d, conf)
    t_conf = time.monotonic() - t0

    # moat, one at a time (the device made by moat apply)
    name = f"mb{os.getpid() % 10000}c"
    devs.append(name)
    cfg = os.path.join(tmp, "moat.hcl")
    with open(cfg, "w") as f:
        f.write(f'state_dir = "{tmp}/state"\n'
                f'vpn {{\n  wireguard "b" {{\n    interface = "{name}"\n'
                f'    listen_port = 51999\n'
                f'    address = ["10.0.0.1/8"]\n  }}\n}}\n')
    sh(moat, "apply", "-c", cfg)
    rss0 = maxrss([moat, "wg", "peer", "list", name, "-c", cfg, "--json"])
    batch = os.path.join(tmp, "peers.txt")
    with open(batch, "w") as f:
        for i, k in enumerate(gen):
            f.write(f"p{i} {k} {allowed(i)}\n")
    t0 = time.monotonic()
    sh(moat, "wg", "peer", "add", name, "--from", batch, "-c", cfg)
    t_moat = time.monotonic() - t0
    got = sh("wg", "show", name, "peers").stdout.split()
    assert len(got) == n, f"{len(got)} peers on the device"
    rss1 = maxrss([moat, "wg", "peer", "list", name, "-c", cfg, "--json"])

    print(f"peers: {n}")
    print(f"wg set, one per peer:     {t_set:7.2f} s")
    print(f"wg setconf, all at once:  {t_conf:7.2f} s")
    print(f"moat, one at a time:      {t_moat:7.2f} s")
    print(f"moat / setconf:           {t_moat / t_conf:7.2f}  (goal 1.5)")
    print(f"wg set / moat:            {t_set / t_moat:7.2f}")
    print(f"moat memory per peer:     "
          f"{(rss1 - rss0) * 1024 / n:7.0f} B  (peer list: store + device)")
finally:
    for pid in subprocess.run(["ip", "netns", "pids", ns],
                              capture_output=True, text=True).stdout.split():
        try:
            os.kill(int(pid), 9)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "del", ns])
    for d in devs:
        try:
            os.unlink(f"/var/run/wireguard/{d}.sock")
        except FileNotFoundError:
            pass
    subprocess.run(["rm", "-rf", tmp])
PY
