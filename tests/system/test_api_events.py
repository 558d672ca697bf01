"""The REST API's events and metrics, end to end: a WebSocket client on
/api/ws (python3-websockets, an implementation of RFC 6455 that is not
ours) gets ctl's events as they happen: an apply, a change awaiting
confirmation and its rollback, a runtime peer, a firewall put right after
`nft flush`, a WireGuard handshake; its credentials are checked when it
connects and again while it listens (a revoked token's socket is closed
with 1008). GET /metrics is read by Prometheus' own parser
(python3-prometheus-client) and its counters move.

    +-----------+ eth0          eth0 +-----------+ eth1          eth0 +-----------+
    | upstream  |--------------------|    gw     |--------------------|    lan    |
    | 192.0.2.1 |        192.0.2.2   | moat ctl  |  10.0.0.1          | 10.0.0.2  |
    +-----------+                    | moat api  |                    | [wg: a    |
                                     | 127.0.0.1:18091                |  peer of  |
                                     | [wg dev, port 51998]           |  the gw]  |
                                     +-----------+                    +-----------+

The namespaces, ctl's state and run directories and its stopping by PID
are test_ctl.py's `ctl` fixture; the WebSocket's and HTTP's sockets are
made inside the gateway's namespace (apiclient.ns_socket).
"""
import asyncio
import json
import os
import queue
import ssl
import subprocess
import threading
import time

import pytest
import websockets
import websockets.exceptions
from prometheus_client.parser import text_string_to_metric_families

from apiclient import Client, ns_socket
from conftest import poll
from test_ctl import BASE, ctl  # noqa: F401 (ctl: the fixture)

PORT = 18091
ADMIN, PW = "admin", "correct horse battery"
WG_PORT = 51998
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket",
           "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
API = f'api {{\n  listen = "127.0.0.1:{PORT}"\n}}\n'
# BASE's LAN policy with a counted rule: pings from the LAN
LAN_SELF = 'policy "eth1" "self" {\n  action = "accept"\n}\n'
PING = ('policy "eth1" "self" {\n  action = "accept"\n  rule "ping" {\n'
        '    proto = "icmp"\n    action = "accept"\n    counter = true\n'
        '  }\n}\n')


def wg_block(dev):
    return (f'vpn {{\n  wireguard "vpn0" {{\n    interface   = "{dev}"\n'
            f'    listen_port = {WG_PORT}\n'
            f'    address     = ["10.78.0.1/24"]\n  }}\n}}\n')


def config(*extra, api=API):
    assert LAN_SELF in BASE
    return BASE.replace(LAN_SELF, PING) + api + "".join(extra)


def start(ctl, *extra, api=API):
    """ctl with the api up, setup done; an admin client logged in."""
    ctl.write(config(*extra, api=api))
    ctl.start()
    c = Client(ctl.gw.name, "127.0.0.1", PORT)
    poll(lambda: ping(c), 10, what="api /health")
    assert c.setup(ADMIN, PW)[0] == 201
    assert c.login(ADMIN, PW)[0] == 200
    return c


def ping(c):
    try:
        return c.raw("GET", "/health")[0] == 200
    except OSError:
        return False


def token(c, role, name=None):
    """(id, value) of a new API token."""
    st, _, t = c.post("/api/tokens", {"name": name or role, "role": role})
    assert st == 201, t
    return t["id"], t["token"]


class Events:
    """A WebSocket client in a thread of its own (websockets runs on
    asyncio): every event it gets goes to a queue; how it ended is kept."""

    def __init__(self, ns, headers, port=PORT, tls=False):
        self.q = queue.Queue()
        self.seen = []
        self.ready = threading.Event()
        self.ended = threading.Event()
        self.error = None
        self.code = None
        self.ws = None
        sock = ns_socket(ns, "127.0.0.1", port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete,
            args=(self._main(sock, headers, port, tls),), daemon=True)
        self.thread.start()
        self.ready.wait(15)
        if self.error:
            raise self.error
        assert self.ws is not None, "the WebSocket did not open"

    async def _main(self, sock, headers, port, tls):
        ctx = None
        if tls:     # ctl's self-signed certificate
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        try:
            async with websockets.connect(
                    f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/api/ws",
                    sock=sock, ssl=ctx, extra_headers=headers,
                    server_hostname="127.0.0.1" if tls else None,
                    open_timeout=10,
                    close_timeout=5, ping_interval=None) as ws:
                self.ws = ws
                self.ready.set()
                try:
                    async for m in ws:
                        self.q.put(json.loads(m))
                except websockets.ConnectionClosed:
                    pass
                self.code = ws.close_code
        except Exception as e:  # handed to the test
            self.error = e
        finally:
            self.ready.set()
            self.ended.set()

    def wait(self, pred, timeout=20, what="an event"):
        """The first event (seen before or coming) for which pred is
        true."""
        for ev in self.seen:
            if pred(ev):
                return ev
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} in {timeout}s; got "
                                     f"{[e['type'] for e in self.seen]}")
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(ev)
            if pred(ev):
                return ev

    def of(self, kind, timeout=20, **data):
        return self.wait(lambda e: e["type"] == kind and all(
            e["data"].get(k) == v for k, v in data.items()), timeout,
            what=kind)

    def close(self):
        if self.ws and not self.ended.is_set():
            asyncio.run_coroutine_threadsafe(self.ws.close(),
                                             self.loop).result(10)
        self.thread.join(10)


def bearer(t):
    return {"Authorization": "Bearer " + t}


def test_handshake_is_checked_like_any_request(ctl):
    ctl.write(config())
    ctl.start()
    c = Client(ctl.gw.name, "127.0.0.1", PORT)
    poll(lambda: ping(c), 10, what="api /health")
    # before setup: 428, as every /api path
    st, _, body = c.raw("GET", "/api/ws", headers=UPGRADE)
    assert st == 428 and json.loads(body)["code"] == "setup_required"
    assert c.setup(ADMIN, PW)[0] == 201
    assert c.login(ADMIN, PW)[0] == 200
    # no credentials, or bad ones: 401 as JSON, nothing upgraded
    st, hdrs, body = c.raw("GET", "/api/ws", headers=UPGRADE)
    assert st == 401, body
    assert hdrs["content-type"] == "application/json"
    assert json.loads(body)["code"] == "unauthorized"
    st, _, _ = c.raw("GET", "/api/ws",
                     headers={**UPGRADE, **bearer("moat_" + "A" * 43)})
    assert st == 401
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as e:
        Events(ctl.gw.name, {})
    assert e.value.status_code == 401
    _, viewer = token(c, "viewer")
    # not a WebSocket handshake: 426 (426 names what is wanted); a bad key
    st, hdrs, _ = c.raw("GET", "/api/ws", headers=bearer(viewer))
    assert st == 426 and hdrs["upgrade"] == "websocket"
    st, hdrs, _ = c.raw("GET", "/api/ws", headers={
        **UPGRADE, **bearer(viewer), "Sec-WebSocket-Version": "8"})
    assert st == 426 and hdrs["sec-websocket-version"] == "13"
    st, _, _ = c.raw("GET", "/api/ws", headers={
        **UPGRADE, **bearer(viewer), "Sec-WebSocket-Key": "short"})
    assert st == 400
    # a session cookie from another origin: refused (cross-site
    # WebSocket hijacking); from this one, taken
    cookie = {"Cookie": "moat_session=" + c.cookie}
    st, _, body = c.raw("GET", "/api/ws", headers={
        **UPGRADE, **cookie, "Origin": "http://evil.example"})
    assert st == 403, body
    st, _, _ = c.raw("GET", "/api/ws", headers={
        **UPGRADE, **cookie, "Origin": f"http://127.0.0.1:{PORT + 1}"})
    assert st == 403
    ev = Events(ctl.gw.name, {**cookie,
                              "Origin": f"http://127.0.0.1:{PORT}"})
    ev.close()
    assert ev.code == 1000
    # a viewer may listen: nothing in an event is a secret
    ev = Events(ctl.gw.name, bearer(viewer))
    ev.close()


def test_events_of_applies_peers_and_the_monitor(wgdev, ctl, tmp_path):
    dev = wgdev("me")
    c = start(ctl, wg_block(dev))
    _, viewer = token(c, "viewer")
    ev = Events(ctl.gw.name, bearer(viewer))
    try:
        # a reload that changes something
        ctl.write(config(wg_block(dev), 'route "office" {\n  destination '
                         '= "10.9.0.0/16"\n  gateway = "192.0.2.1"\n}\n'))
        ctl.ask("reload")
        e = ev.of("config.applied")
        rev = e["data"]["revision"]
        assert rev > 0 and e["data"]["components"]["net"] == "applied"
        assert e["time"].endswith("Z") and "T" in e["time"]
        # a change awaiting confirmation that never comes
        new = tmp_path / "new.hcl"
        new.write_text(config(wg_block(dev)))
        ctl.ask("apply", "-c", new, "--confirm-within", "2")
        e = ev.of("config.awaiting_confirm")
        assert e["data"]["revision"] > rev
        e = ev.of("config.rolled_back", 30)
        assert e["data"]["to"] == rev
        # a runtime peer
        ctl.ask("wg", "peer", "add", dev, "phone", "-c", ctl.cfg)
        ev.of("wg.peer.added", device=dev, peer="phone")
        ctl.ask("wg", "peer", "del", dev, "phone", "-c", ctl.cfg)
        ev.of("wg.peer.removed", device=dev, peer="phone")
        # someone flushes the firewall: ctl puts it back, and says so
        ctl.gw.run("nft", "flush", "table", "inet", "moat")
        ev.of("integrity.restored", component="fw")
        # nothing secret went by: no private key, no token
        text = json.dumps(ev.seen)
        key = (ctl.state / "wg" / f"{dev}.key").read_text().strip()
        assert key not in text and viewer not in text
        assert "auth.login" not in [x["type"] for x in ev.seen]
    finally:
        ev.close()


def wg_keys():
    priv = subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                          check=True).stdout.strip()
    pub = subprocess.run(["wg", "pubkey"], input=priv + "\n",
                         capture_output=True, text=True,
                         check=True).stdout.strip()
    return priv, pub


def lan_peer(ctl, tmp_path, name):
    """A WireGuard device in the LAN namespace (the kernel's, else
    wireguard-go) talking to the gateway."""
    priv, pub = wg_keys()
    lan = ctl.t.lan
    if os.environ.get("MOAT_WG_BACKEND") == "kernel":
        lan.run("ip", "link", "add", name, "type", "wireguard")
    else:
        lan.run("wireguard-go", name)
    key = tmp_path / f"{name}.key"
    key.write_text(priv + "\n")
    return pub, key


def test_handshake_event_and_peer_metrics(wgdev, ctl, tmp_path):
    dev = wgdev("mh")
    road = wgdev("mr")
    c = start(ctl, wg_block(dev))
    _, viewer = token(c, "viewer")
    gw_pub = ctl.gw.run("wg", "show", dev, "public-key").stdout.strip()
    pub, key = lan_peer(ctl, tmp_path, road)
    ev = Events(ctl.gw.name, bearer(viewer))
    try:
        ctl.ask("wg", "peer", "add", dev, "road", "-c", ctl.cfg,
                "--public-key", pub, "--allowed-ips", "10.78.0.2/32")
        ev.of("wg.peer.added", device=dev, peer="road")
        lan = ctl.t.lan
        lan.run("wg", "set", road, "private-key", key, "peer", gw_pub,
                "endpoint", f"10.0.0.1:{WG_PORT}", "allowed-ips",
                "10.78.0.0/24")
        lan.run("ip", "addr", "add", "10.78.0.2/24", "dev", road)
        lan.run("ip", "link", "set", road, "up")
        lan.run("ping", "-c", "1", "-W", "2", "10.78.0.1", check=False)
        e = ev.of("wg.peer.handshake", 30, device=dev, public_key=pub)
        assert e["data"]["name"] == "road"
        assert e["data"]["latest_handshake"].endswith("Z")
        # the peer in /metrics: its handshake and bytes
        c.token = viewer
        fams = scrape(c)
        hs = samples(fams, "moat_wg_peer_last_handshake_seconds",
                     device=dev, public_key=pub)
        assert hs and hs[0].value > time.time() - 120
        rx = samples(fams, "moat_wg_peer_receive_bytes_total", device=dev,
                     public_key=pub)
        assert rx and rx[0].value > 0
    finally:
        ev.close()
        ctl.t.lan.run("ip", "link", "del", road, check=False)
        try:
            os.unlink(f"/var/run/wireguard/{road}.sock")
        except FileNotFoundError:
            pass


def test_revoked_token_and_ended_session_close_their_sockets(ctl):
    c = start(ctl)
    tid, viewer = token(c, "viewer")
    ev = Events(ctl.gw.name, bearer(viewer))
    # revoked through the API: the socket closes at once, with 1008
    assert c.request("DELETE", f"/api/tokens/{tid}")[0] == 200
    assert ev.ended.wait(10), "the revoked token's socket stayed open"
    assert ev.code == 1008
    # a session's socket, when the session logs out
    s = Client(ctl.gw.name, "127.0.0.1", PORT)
    assert s.login(ADMIN, PW)[0] == 200
    ev = Events(ctl.gw.name, {"Cookie": "moat_session=" + s.cookie})
    assert s.post("/api/auth/logout")[0] == 200
    assert ev.ended.wait(10), "the ended session's socket stayed open"
    assert ev.code == 1008
    # a token revoked outside the API (ctl.sock: the CLI's way) is
    # caught by the periodic check too; not waited for here (30 s)


def scrape(c):
    st, hdrs, body = c.get("/metrics")
    assert st == 200, body
    assert hdrs["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fams, name, **labels):
    """The samples named name (a family's or its _bucket/_count...) whose
    labels include labels."""
    out = []
    for f in fams.values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v
                                      for k, v in labels.items()):
                out.append(s)
    return out


def test_metrics_parse_and_move(ctl):
    c = start(ctl)
    # no credentials: 401, like any route
    anon = Client(ctl.gw.name, "127.0.0.1", PORT)
    st, _, body = anon.get("/metrics")
    assert st == 401 and body["code"] == "unauthorized"
    _, viewer = token(c, "viewer")
    v = Client(ctl.gw.name, "127.0.0.1", PORT)
    v.token = viewer
    fams = scrape(v)
    for name, kind in (
            ("moat_config_applies", "counter"),
            ("moat_config_apply_duration_seconds", "histogram"),
            ("moat_config_revision", "gauge"),
            ("moat_integrity_restores", "counter"),
            ("moat_fw_rule_packets", "counter"),
            ("moat_fw_rule_bytes", "counter"),
            ("moat_wg_peer_last_handshake_seconds", "gauge"),
            ("moat_process_resident_memory_bytes", "gauge"),
            ("moat_api_requests", "counter"),
            ("moat_api_request_duration_seconds", "histogram"),
            ("moat_api_websocket_clients", "gauge")):
        assert name in fams, name
        assert fams[name].type == kind, (name, fams[name].type)
    mem = {s.labels["process"]: s.value for s in
           fams["moat_process_resident_memory_bytes"].samples}
    assert mem["ctl"] > 1 << 20 and mem["api"] > 1 << 20
    # the API's counters move, under the route's pattern
    def status_count(f):
        got = samples(f, "moat_api_requests_total", route="/api/status",
                      method="GET", code="200")
        return got[0].value if got else 0
    before = status_count(fams)
    for _ in range(5):
        assert v.get("/api/status")[0] == 200
    assert v.get("/v1/devices/nope-\"x\"/peers/")[0] in (400, 404)
    fams = scrape(v)
    assert status_count(fams) == before + 5
    hist = samples(fams, "moat_api_request_duration_seconds_count",
                   route="/api/status", method="GET", code="200")
    assert hist and hist[0].value >= 5
    inf = samples(fams, "moat_api_request_duration_seconds_bucket",
                  route="/api/status", le="+Inf")
    assert inf and inf[0].value == hist[0].value
    # the raw path is never a label
    assert "nope" not in json.dumps([s.labels for f in fams.values()
                                     for s in f.samples])
    # an apply is counted, and timed
    applies = samples(fams, "moat_config_applies_total", result="ok")[0]
    ctl.ask("reload")
    fams = scrape(v)
    assert samples(fams, "moat_config_applies_total",
                   result="ok")[0].value == applies.value + 1
    assert samples(fams, "moat_config_apply_duration_seconds_count")[
        0].value >= 1
    # the counted rule counts what it matched
    def pings(f):
        got = samples(f, "moat_fw_rule_packets_total")
        assert len(got) == 1, got
        assert "ping" in got[0].labels["rule"]
        return got[0].value
    n = pings(fams)
    ctl.t.lan.run("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.1")
    # (the first packet only: the replies and the rest are "established";
    # ctl reads the counters at most once a second)
    poll(lambda: pings(scrape(v)) >= n + 1, 5, what="the rule's counter")


def test_https_socket_and_going_away(ctl):
    """Over HTTPS MHD hands api one end of a socketpair (the sandbox lets
    api make an AF_UNIX pair, nothing else); when api stops, its clients
    are told (1001) before it exits."""
    tls = PORT + 1
    c = start(ctl, api=f'api {{\n  listen = "127.0.0.1:{PORT}"\n'
                       f'  tls_listen = "127.0.0.1:{tls}"\n}}\n')
    _, viewer = token(c, "viewer")
    ev = Events(ctl.gw.name, bearer(viewer), port=tls, tls=True)
    plain = Events(ctl.gw.name, bearer(viewer))
    ctl.ask("reload")
    for e in (ev, plain):
        e.of("config.applied")
    ctl.stop()
    for e in (ev, plain):
        assert e.ended.wait(10)
        assert e.code == 1001
    log = ctl.log.read_text()
    assert "api: exit 0" in log
    assert "not closed" not in log      # MHD: an upgraded socket left open
    assert "finishing 2 request(s)" in log
