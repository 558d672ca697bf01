#!/bin/sh
# moat api over loopback, measured with wrk:
#   - GET /health with 50 connections, as fast as it goes; the reference
#     in the same run is nginx answering `return 200` on the same loopback
#     (the fastest common HTTP server: the ratio says what moat's path
#     through api and ctl costs);
#   - an authenticated GET /v1/devices/DEV/peers/?per_page=100 of a device
#     with 1,000 peers, paced at about 1,000 requests/s (10 connections,
#     each waiting 10 ms between requests), for its latency;
#   - GET /api/auth/status with a Bearer token, 50 connections: every
#     request a round trip to ctl and a token lookup in SQLite;
#   - the memory (RSS, PSS) of api and ctl after the load.
#   bench/api.sh build/moat [SECONDS]        (root; about a minute)
# Everything runs in a network namespace of its own, removed at the end.
set -eu
MOAT=$(realpath "${1:?usage: bench/api.sh path/to/moat [SECONDS]}")
SECS=${2:-10}
exec python3 - "$MOAT" "$SECS" "$(dirname "$(realpath "$0")")" <<'PY'
import json, os, re, shutil, signal, subprocess, sys, tempfile, time

moat, secs, here = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, os.path.join(here, "..", "tests", "system"))
from apiclient import Client  # noqa: E402

ns = f"moat-bench-api-{os.getpid()}"
dev = f"mba{os.getpid() % 100000}"
tmp = tempfile.mkdtemp(prefix="moat-bench-api-")
PORT, NGINX_PORT, PEERS = 18086, 18087, 1000
procs = []


def sh(*argv, **kw):
    return subprocess.run(["ip", "netns", "exec", ns, *map(str, argv)],
                          check=True, capture_output=True, text=True, **kw)


def wrk(url, conns, extra=(), script=None):
    argv = ["wrk", "-t2", f"-c{conns}", f"-d{secs}s", "--latency"]
    if script:
        argv += ["-s", script]
    out = sh(*argv, *extra, url).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat, int(errs.group(1)) if errs else 0


def memory(pid):
    st = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    pss = [l for l in open(f"/proc/{pid}/smaps_rollup")
           if l.startswith("Pss:")][0].split(":", 1)[1].strip()
    return st["VmRSS"].strip(), pss


subprocess.run(["ip", "netns", "add", ns], check=True)
try:
    sh("ip", "link", "set", "lo", "up")
    cfg = os.path.join(tmp, "moat.hcl")
    with open(cfg, "w") as f:
        f.write(f'''state_dir = "{tmp}/state"
api {{
  listen = "127.0.0.1:{PORT}"
}}
vpn {{
  wireguard "bench" {{
    interface   = "{dev}"
    listen_port = 51820
    address     = ["10.99.0.1/16"]
  }}
}}
''')
    env = dict(os.environ, MOAT_RUN_DIR=os.path.join(tmp, "run"))
    log = open(os.path.join(tmp, "ctl.log"), "w")
    ctl = subprocess.Popen(["ip", "netns", "exec", ns, moat, "ctl", "-c",
                            cfg], env=env, stdout=log, stderr=log)
    procs.append(ctl)
    c = Client(ns, "127.0.0.1", PORT)
    for _ in range(200):
        try:
            if c.raw("GET", "/health")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.05)
    assert c.setup("admin", "benchmark password")[0] == 201
    assert c.login("admin", "benchmark password")[0] == 200
    token = c.new_token("bench", "viewer")
    c.token = c.new_token("bench-admin", "admin")
    t0 = time.monotonic()
    for i in range(PEERS):
        st, _, body = c.post(f"/v1/devices/{dev}/peers/", {
            "allowed_ips": [f"10.99.{(i + 2) >> 8}.{(i + 2) & 255}/32"]})
        assert st == 201, body
    print(f"setup: {PEERS} peers added through POST /v1 in "
          f"{time.monotonic() - t0:.1f} s (not timed below)")

    # the reference: nginx on the same loopback, `return 200`
    nconf = os.path.join(tmp, "nginx.conf")
    with open(nconf, "w") as f:
        f.write(f'''daemon off; worker_processes 2; pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err; events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:{NGINX_PORT};
location / {{ default_type application/json;
return 200 '{{"status":"ok","ctl":true}}'; }} }} }}
''')
    nginx = subprocess.Popen(["ip", "netns", "exec", ns, "nginx", "-c",
                              nconf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    procs.append(nginx)
    time.sleep(0.5)
    ref, ref_lat, _ = wrk(f"http://127.0.0.1:{NGINX_PORT}/health", 50)
    rps, lat, bad = wrk(f"http://127.0.0.1:{PORT}/health", 50)
    print(f"GET /health, 50 connections, {secs} s:")
    print(f"  moat  {rps:9.0f} req/s  p50 {lat['50']}  p99 {lat['99']}"
          f"  (non-2xx: {bad})")
    print(f"  nginx {ref:9.0f} req/s  p50 {ref_lat['50']}  "
          f"p99 {ref_lat['99']}")
    print(f"  moat/nginx = {rps / ref:.2f} (goal: moat >= 20,000 req/s)")

    # every request through ctl: the token checked there each time
    bearer = os.path.join(tmp, "bearer.lua")
    with open(bearer, "w") as f:
        f.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    rps, lat, bad = wrk(f"http://127.0.0.1:{PORT}/api/auth/status", 50,
                        script=bearer)
    print(f"GET /api/auth/status (Bearer, a ctl round trip and a token "
          f"lookup each), 50 connections, {secs} s:")
    print(f"  {rps:9.0f} req/s  p50 {lat['50']}  p99 {lat['99']}  "
          f"(non-2xx: {bad})")

    lua = os.path.join(tmp, "paced.lua")
    with open(lua, "w") as f:
        f.write(f'''wrk.headers["Authorization"] = "Bearer {token}"
function delay() return 10 end
''')
    rps, lat, bad = wrk(f"http://127.0.0.1:{PORT}/v1/devices/{dev}/peers/"
                        "?per_page=100", 10, script=lua)
    print(f"GET /v1/devices/{dev}/peers/?per_page=100 of {PEERS} peers, "
          f"Bearer, 10 connections paced 10 ms, {secs} s:")
    print(f"  {rps:.0f} req/s  p50 {lat['50']}  p90 {lat['90']}  "
          f"p99 {lat['99']}  (non-2xx: {bad}; goal: p99 < 5 ms at "
          f"1,000 req/s)")
    st = c.get("/api/status")[2]
    for name, pid in (("ctl", ctl.pid), ("api", st["api"]["pid"])):
        # ctl.pid is `ip netns exec`'s: it execs moat, same pid
        rss, pss = memory(pid)
        print(f"memory after the load: {name} RSS {rss}, PSS {pss}")
finally:
    for p in reversed(procs):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    for pid in subprocess.run(["ip", "netns", "pids", ns],
                              capture_output=True, text=True).stdout.split():
        os.kill(int(pid), signal.SIGKILL)
    subprocess.run(["ip", "netns", "del", ns])
    subprocess.run(["rm", "-f", f"/var/run/wireguard/{dev}.sock"])
    shutil.rmtree(tmp, ignore_errors=True)
PY
