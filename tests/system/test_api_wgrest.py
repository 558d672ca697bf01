"""The wgrest-compatible WireGuard API (/v1/devices/...), end to end: moat
ctl runs a WireGuard device (wireguard-go, or the kernel's) in the
gateway namespace, the REST API changes its peers, and the other side is
the real tools only: a quick.conf downloaded from the API, stripped of
its wg-quick keys as `wg-quick strip` does, loaded with `wg setconf` into
a wireguard-go device in the upstream namespace, gets a handshake.

    +-----------------+ eth0            eth0 +---------------------+
    |       up        |------------------------|        gw         |
    |  192.0.2.1      |              192.0.2.2 | moat ctl, moat api |
    |  CDEV (client,  |  ~~~~~~ tunnel ~~~~~~  | DEV 10.80.0.1/24   |
    |  wg setconf)    |     UDP 192.0.2.2:PORT | 127.0.0.1:18095    |
    +-----------------+                        +---------------------+
                                                 | eth1 10.0.0.1 -- lan

The HTTP client is Python's http.client with its socket made in the
gateway's namespace (apiclient.py); the "wgrest-style client" is a small
urllib script run inside that namespace, doing what wgrest's README and
its TypeScript client do. Namespaces, ctl's directories and its stopping
by PID are test_ctl.py's `ctl` fixture. Device names are unique per test
(wireguard-go's sockets in /var/run/wireguard are shared).
"""
import base64
import itertools
import json
import os
import subprocess
import urllib.parse

import pytest

from apiclient import Client
from conftest import poll
from test_ctl import BASE, ctl  # noqa: F401 (ctl: the fixture)

PORT = 18095
WG_PORT = 51900
ADMIN, PW = "admin", "correct horse battery"
_seq = itertools.count()


def wg_genkey():
    priv = subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                          check=True).stdout.strip()
    pub = subprocess.run(["wg", "pubkey"], input=priv + "\n",
                         capture_output=True, text=True,
                         check=True).stdout.strip()
    return priv, pub


def urlsafe(key):
    return base64.urlsafe_b64encode(base64.b64decode(key)).decode()


def strip_quick(text):
    """What `wg-quick strip` leaves: the keys wg setconf knows."""
    drop = ("address", "dns", "mtu", "table", "preup", "postup",
            "predown", "postdown", "saveconfig")
    out = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if line.strip().startswith("#") or key in drop:
            continue
        out.append(line)
    return "\n".join(out) + "\n"


class Vpn:
    """ctl with a WireGuard device and the API, and an admin, an operator
    and a viewer client."""

    def __init__(self, ctl):
        tag = f"{os.getpid() % 100000}x{next(_seq)}"
        self.ctl, self.dev, self.cdev = ctl, f"mq{tag}", f"mp{tag}"
        self.tag, self.extra = tag, []      # devices a test makes
        self.cfg_priv, self.cfg_pub = wg_genkey()
        ctl.write(BASE + f'api {{\n  listen = "127.0.0.1:{PORT}"\n}}\n'
                  f'vpn {{\n  wireguard "vpn0" {{\n'
                  f'    interface   = "{self.dev}"\n'
                  f'    listen_port = {WG_PORT}\n'
                  f'    address     = ["10.80.0.1/24"]\n'
                  f'    peer "office" {{\n'
                  f'      public_key  = "{self.cfg_pub}"\n'
                  f'      allowed_ips = ["10.80.0.250/32"]\n'
                  f'    }}\n  }}\n}}\n')
        ctl.start()
        self.admin = Client(ctl.gw.name, "127.0.0.1", PORT)
        poll(lambda: self._up(), 10, what="api /health")
        assert self.admin.setup(ADMIN, PW)[0] == 201
        assert self.admin.login(ADMIN, PW)[0] == 200
        self.op = self.client(self.admin.new_token("ops", "operator"))
        self.viewer = self.client(self.admin.new_token("dash", "viewer"))
        self.base = f"/v1/devices/{self.dev}"

    def _up(self):
        try:
            return self.admin.raw("GET", "/health")[0] == 200
        except OSError:
            return False

    def client(self, token):
        c = Client(self.ctl.gw.name, "127.0.0.1", PORT)
        c.token = token
        return c

    def device_peers(self):
        return self.ctl.gw.run("wg", "show", self.dev,
                               "peers").stdout.split()

    def cleanup(self):
        for name in (self.dev, self.cdev, *self.extra):
            try:
                os.unlink(f"/var/run/wireguard/{name}.sock")
            except FileNotFoundError:
                pass


@pytest.fixture
def vpn(ctl):
    v = Vpn(ctl)
    yield v
    ctl.stop()
    v.cleanup()


def test_peer_create_get_patch_delete(vpn):
    op, base = vpn.op, vpn.base
    _, pub = wg_genkey()
    # with a public key: 201, wgrest's Peer, on the device at once
    st, hdrs, p = op.post(f"{base}/peers/", {
        "public_key": pub, "allowed_ips": ["10.80.0.10/32"],
        "persistent_keepalive_interval": "25s"})
    assert st == 201, p
    assert hdrs["content-type"].startswith("application/json")
    assert p["public_key"] == pub
    assert p["url_safe_public_key"] == urlsafe(pub)
    assert p["allowed_ips"] == ["10.80.0.10/32"]
    assert p["persistent_keepalive_interval"] == "25s"
    assert p["last_handshake_time"] == "0001-01-01T00:00:00Z"
    assert p["receive_bytes"] == 0 and p["transmit_bytes"] == 0
    assert p["endpoint"] == "" and "private_key" not in p
    assert pub in vpn.device_peers()
    # without one: the pair is made, the private key answered this once
    st, _, g = op.post(f"{base}/peers/", {})
    assert st == 201, g
    made = subprocess.run(["wg", "pubkey"], input=g["private_key"] + "\n",
                          capture_output=True, text=True,
                          check=True).stdout.strip()
    assert made == g["public_key"]
    assert g["allowed_ips"] == ["10.80.0.2/32"]    # the first free one
    st, _, again = op.get(f"{base}/peers/{g['url_safe_public_key']}/")
    assert st == 200 and "private_key" not in again
    assert again["public_key"] == g["public_key"]
    # the key in the path: URL-safe with or without its "=", or standard
    assert op.get(f"{base}/peers/{urlsafe(pub).rstrip('=')}")[0] == 200
    # patch: what the body names changes, the rest stays
    _, psk = wg_genkey()
    st, _, p2 = op.request("PATCH", f"{base}/peers/{urlsafe(pub)}/", {
        "allowed_ips": ["10.80.0.11/32", "10.80.1.0/24"],
        "preshared_key": psk, "persistent_keepalive_interval": "1m30s"})
    assert st == 200, p2
    assert sorted(p2["allowed_ips"]) == ["10.80.0.11/32", "10.80.1.0/24"]
    assert p2["persistent_keepalive_interval"] == "1m30s"
    assert p2["preshared_key"] == psk
    dump = vpn.ctl.gw.run("wg", "show", vpn.dev, "dump").stdout
    line = [ln for ln in dump.splitlines() if ln.startswith(pub)][0]
    f = line.split("\t")
    assert f[1] == psk
    assert sorted(f[3].split(",")) == ["10.80.0.11/32", "10.80.1.0/24"]
    assert f[7] == "90"
    # a reload keeps the runtime peers: the plan has them
    r = vpn.ctl.ask("reload")
    assert "wg: unchanged" in r.stdout, r.stdout
    assert {pub, g["public_key"]} <= set(vpn.device_peers())
    # delete: 200 with the peer as it was, then it is gone
    st, _, gone = op.request("DELETE", f"{base}/peers/{urlsafe(pub)}/")
    assert st == 200 and gone["public_key"] == pub
    assert pub not in vpn.device_peers()
    st, _, e = op.get(f"{base}/peers/{urlsafe(pub)}/")
    assert st == 404 and e["code"] == "peer_not_found"
    # the config's peer is listed but not the API's to change
    office = urlsafe(vpn.cfg_pub)
    st, _, o = op.get(f"{base}/peers/{office}/")
    assert st == 200 and o["source"] == "config"
    for method, body in (("PATCH", {"persistent_keepalive_interval": "5s"}),
                         ("DELETE", None)):
        st, _, e = op.request(method, f"{base}/peers/{office}/", body)
        assert st == 409 and "declared in the config" in e["message"], e
    assert vpn.cfg_pub in vpn.device_peers()
    audit = vpn.ctl.audit()
    for action in ("wg.peer.add", "wg.peer.update", "wg.peer.del"):
        assert action in audit, audit
    assert g["private_key"] not in audit and psk not in audit
    assert g["private_key"] not in vpn.ctl.log.read_text()
    assert psk not in vpn.ctl.log.read_text()


def test_bad_requests_and_roles(vpn):
    op, viewer, base = vpn.op, vpn.viewer, vpn.base
    # unknown device and peer
    st, _, e = op.get("/v1/devices/nope0/peers/")
    assert st == 404 and e["code"] == "device_not_found"
    assert op.get("/v1/devices/nope0/")[0] == 404
    assert op.post("/v1/devices/nope0/peers/", {})[0] == 404
    _, pub = wg_genkey()
    st, _, e = op.get(f"{base}/peers/{urlsafe(pub)}/")
    assert st == 404 and e["code"] == "peer_not_found"
    assert op.request("DELETE", f"{base}/peers/{urlsafe(pub)}/")[0] == 404
    # bad keys: in the path, in the body
    st, _, e = op.get(f"{base}/peers/not-a-key/")
    assert st == 400 and set(e) >= {"code", "message"}
    assert isinstance(e["code"], str)
    st, _, e = op.post(f"{base}/peers/", {"public_key": "abc"})
    assert st == 400 and "public_key" in e["message"]
    st, _, e = op.post(f"{base}/peers/", {"preshared_key": "x" * 44})
    assert st == 400 and "preshared_key" in e["message"]
    # bad allowed IPs, keepalive, endpoint, fields
    for body in ({"allowed_ips": ["10.80.0.300/32"]},
                 {"allowed_ips": "10.80.0.3/32"},
                 {"persistent_keepalive_interval": "25"},
                 {"endpoint": "vpn.example.org:51820"},
                 {"public_key": pub, "colour": "blue"},
                 [pub]):
        st, _, e = op.post(f"{base}/peers/", body)
        assert st == 400, (body, e)
    st, _, e = op.post(f"{base}/peers/", {"public_key": pub,
                                          "allowed_ips": ["nope"]})
    assert st == 400 and "allowed_ips" in e["message"]
    assert pub not in vpn.device_peers()
    # bad query arguments
    for qs in ("sort=name", "per_page=abc", "page=-1", "per_page=100000"):
        st, _, e = op.get(f"{base}/peers/?{qs}")
        assert st == 400, (qs, e)
    # conflicts: the same key twice, an allowed IP that is taken
    assert op.post(f"{base}/peers/", {"public_key": pub})[0] == 201
    st, _, e = op.post(f"{base}/peers/", {"public_key": pub})
    assert st == 409, e
    _, pub2 = wg_genkey()
    st, _, e = op.post(f"{base}/peers/", {"public_key": pub2,
                                          "allowed_ips": ["10.80.0.250/32"]})
    assert st == 409 and "office" in e["message"], e
    # a viewer reads, never writes, and never sees preshared keys
    _, psk = wg_genkey()
    assert op.request("PATCH", f"{base}/peers/{urlsafe(pub)}/",
                      {"preshared_key": psk})[0] == 200
    # (the same page asked by both roles in turn: api keeps pages, and
    # never serves an operator's to a viewer)
    for _ in range(2):
        st, _, lst = op.get(f"{base}/peers/")
        assert psk in json.dumps(lst)
        st, _, lst = viewer.get(f"{base}/peers/")
        assert st == 200 and len(lst) == 2
        assert all("preshared_key" not in p for p in lst)
        assert psk not in json.dumps(lst)
    st, _, e = viewer.post(f"{base}/peers/", {"public_key": pub2})
    assert st == 403 and e["code"] == "forbidden", e
    assert viewer.request("DELETE",
                          f"{base}/peers/{urlsafe(pub)}/")[0] == 403
    assert viewer.get(f"{base}/peers/{urlsafe(pub)}/quick.conf")[0] == 403
    assert pub2 not in vpn.device_peers()
    # no credentials at all
    anon = Client(vpn.ctl.gw.name, "127.0.0.1", PORT)
    assert anon.get(f"{base}/peers/")[0] == 401
    # devices are admin's (test_device_* below)
    assert op.request("PATCH", f"{base}/", {"listen_port": 1})[0] == 403
    # quick.conf.png's width is bounded
    for w in ("0", "10", "100000", "abc"):
        st, _, _ = op.get(f"{base}/peers/{urlsafe(pub)}/quick.conf.png"
                          f"?width={w}")
        assert st == 400, w
    # the api and ctl are still there
    assert op.get(f"{base}/peers/")[0] == 200


def test_pagination_sort_and_search(vpn):
    op, base = vpn.op, vpn.base
    keys = []
    for i in range(24):
        _, pub = wg_genkey()
        st, _, p = op.post(f"{base}/peers/", {
            "public_key": pub, "allowed_ips": [f"10.80.0.{100 + i}/32"]})
        assert st == 201, p
        keys.append(pub)
    every = {vpn.cfg_pub, *keys}
    # per_page and page from 0, with a Link header as GitHub's
    seen = []
    for page, size in ((0, 10), (1, 10), (2, 5)):
        st, hdrs, lst = op.get(f"{base}/peers/?per_page=10&page={page}")
        assert st == 200 and len(lst) == size
        seen += [p["public_key"] for p in lst]
        link = hdrs["link"]
        path = f"{base}/peers/"
        assert f'<{path}?page=0&per_page=10>; rel="first"' in link
        assert f'<{path}?page=2&per_page=10>; rel="last"' in link
        assert ('rel="next"' in link) == (page < 2)
        assert ('rel="prev"' in link) == (page > 0)
        if page == 1:
            assert f'<{path}?page=2&per_page=10>; rel="next"' in link
            assert f'<{path}?page=0&per_page=10>; rel="prev"' in link
    assert len(seen) == 25 and set(seen) == every
    # the default page is 100 peers
    st, _, lst = op.get(f"{base}/peers/")
    assert len(lst) == 25
    assert op.get(f"{base}/peers/?page=5")[2] == []
    # q: in allowed IPs, keys, names; the Link header keeps it
    st, hdrs, lst = op.get(f"{base}/peers/?q=10.80.0.11&per_page=5")
    assert {p["allowed_ips"][0] for p in lst} == {
        f"10.80.0.{n}/32" for n in range(110, 115)}
    assert "q=10.80.0.11" in hdrs["link"]
    st, _, lst = op.get(f"{base}/peers/?q=" +
                        urllib.parse.quote(keys[3][:12], safe=""))
    assert keys[3] in [p["public_key"] for p in lst]
    st, _, lst = op.get(f"{base}/peers/?q=office")
    assert [p["public_key"] for p in lst] == [vpn.cfg_pub]
    # sort by key, both ways; by counters (all 0 here: by key too)
    st, _, up = op.get(f"{base}/peers/?sort=pub_key&per_page=100")
    assert [p["public_key"] for p in up] == sorted(every)
    st, _, down = op.get(f"{base}/peers/?sort=-pub_key")
    assert [p["public_key"] for p in down] == sorted(every, reverse=True)
    for s in ("receive_bytes", "-transmit_bytes", "total_bytes",
              "-last_handshake_time"):
        st, hdrs, lst = op.get(f"{base}/peers/?sort={s}&per_page=7")
        assert st == 200 and len(lst) == 7
        assert f"sort={s}" in hdrs["link"]
    # no Link header when nothing matches
    st, hdrs, lst = op.get(f"{base}/peers/?q=nothing-matches-this")
    assert st == 200 and lst == [] and "link" not in hdrs
    # the device list: wgrest's Device
    st, hdrs, devs = op.get("/v1/devices/")
    assert st == 200
    (d,) = [d for d in devs if d["name"] == vpn.dev]
    assert d["listen_port"] == WG_PORT and d["peers_count"] == 25
    assert d["networks"] == ["10.80.0.1/24"]
    pub = vpn.ctl.gw.run("wg", "show", vpn.dev, "public-key").stdout.strip()
    assert d["public_key"] == pub
    assert op.get(f"{base}/")[2]["public_key"] == pub


def client_device(vpn, conf, address):
    """The client's side: wireguard-go (or the kernel's link) in the
    upstream namespace, loaded with `wg setconf`."""
    up = vpn.ctl.t.up
    if os.environ.get("MOAT_WG_BACKEND") == "kernel":
        up.run("ip", "link", "add", vpn.cdev, "type", "wireguard")
    else:
        up.run("wireguard-go", vpn.cdev)
    f = vpn.ctl.cfg.parent / f"{vpn.cdev}.conf"
    f.write_text(strip_quick(conf))
    os.chmod(f, 0o600)
    up.run("wg", "setconf", vpn.cdev, f)
    up.run("ip", "addr", "add", address, "dev", vpn.cdev)
    up.run("ip", "link", "set", vpn.cdev, "up")


def handshake(vpn):
    up = vpn.ctl.t.up
    up.run("ping", "-c", "1", "-W", "1", "10.80.0.1", check=False)
    hs = up.run("wg", "show", vpn.cdev, "latest-handshakes").stdout.split()
    return len(hs) == 2 and int(hs[1]) > 0


def test_quick_conf_gets_a_handshake(vpn):
    op, base = vpn.op, vpn.base
    _, psk = wg_genkey()
    st, _, p = op.post(f"{base}/peers/", {"preshared_key": psk})
    assert st == 201
    priv, key = p["private_key"], p["url_safe_public_key"]
    st, hdrs, conf = op.get(f"{base}/peers/{key}/quick.conf")
    assert st == 200 and hdrs["content-type"].startswith("text/plain")
    conf = conf.decode()
    # the server keeps no private key: the client fills it in
    assert priv not in conf and "\nPrivateKey" not in conf
    assert "# PrivateKey" in conf
    assert f"Endpoint = 192.0.2.2:{WG_PORT}" in conf
    assert f"PresharedKey = {psk}" in conf
    assert "Address = 10.80.0.2/32" in conf
    conf = conf.replace("[Interface]\n", f"[Interface]\nPrivateKey = "
                        f"{priv}\n", 1)
    client_device(vpn, conf, "10.80.0.2/24")
    poll(lambda: handshake(vpn), 10, what="a handshake through quick.conf")
    # the API sees it too (within its one-second view of the device)
    def seen():
        p = op.get(f"{base}/peers/{key}/")[2]
        return p["last_handshake_time"] != "0001-01-01T00:00:00Z" and p
    p = poll(seen, 5, what="the handshake in the API")
    assert p["endpoint"].startswith("192.0.2.1:")
    assert p["receive_bytes"] > 0
    st, _, lst = op.get(f"{base}/peers/?sort=-last_handshake_time")
    assert lst[0]["url_safe_public_key"] == key
    # ?endpoint= names the server's address (moat's addition)
    st, _, c2 = op.get(f"{base}/peers/{key}/quick.conf?endpoint="
                       "vpn.example.org")
    assert f"Endpoint = vpn.example.org:{WG_PORT}" in c2.decode()
    assert op.get(f"{base}/peers/{key}/quick.conf?endpoint=a%0Ab")[0] == 400
    # the QR code, as a PNG of about the width asked
    st, hdrs, png = op.get(f"{base}/peers/{key}/quick.conf.png?width=300")
    assert st == 200 and hdrs["content-type"] == "image/png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert 200 <= width <= 400, width
    st, _, png = op.get(f"{base}/peers/{key}/quick.conf.png")
    assert st == 200 and png[:4] == b"\x89PNG"


WGREST_CLIENT = r'''
import json, sys, urllib.request

base, token = sys.argv[1], sys.argv[2]


def call(method, path, body=None, raw=False):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else
                                 json.dumps(body).encode())
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        data = r.read()
        return r.status, dict(r.getheaders()), \
            data.decode() if raw else json.loads(data)


out = {}
_, _, devices = call("GET", "/v1/devices/")
name = devices[0]["name"]
out["device"] = name
_, _, peer = call("POST", "/v1/devices/%s/peers/" % name,
                  {"allowed_ips": ["10.80.0.77/32"],
                   "preshared_key": sys.argv[3]})
out["created"] = peer
st, hdrs, peers = call("GET", "/v1/devices/%s/peers/?per_page=1&page=0"
                       % name)
out["link"] = hdrs.get("Link")
out["first"] = peers
_, _, peers = call("GET", "/v1/devices/%s/peers/" % name)
out["peers"] = [p["public_key"] for p in peers]
_, _, conf = call("GET", "/v1/devices/%s/peers/%s/quick.conf"
                  % (name, peer["url_safe_public_key"]), raw=True)
out["conf"] = conf
st, _, gone = call("DELETE", "/v1/devices/%s/peers/%s/"
                   % (name, peer["url_safe_public_key"]))
out["deleted"] = st
print(json.dumps(out))
'''


def test_wgrest_style_client_works_unchanged(vpn):
    script = vpn.ctl.cfg.parent / "wgrest_client.py"
    script.write_text(WGREST_CLIENT)
    _, psk = wg_genkey()
    r = vpn.ctl.gw.run("python3", script, f"http://127.0.0.1:{PORT}",
                       vpn.op.token, psk)
    out = json.loads(r.stdout)
    assert out["device"] == vpn.dev
    p = out["created"]
    assert set(p) >= {"public_key", "url_safe_public_key", "preshared_key",
                      "allowed_ips", "last_handshake_time",
                      "persistent_keepalive_interval", "endpoint",
                      "receive_bytes", "transmit_bytes", "private_key"}
    assert p["preshared_key"] == psk
    assert p["allowed_ips"] == ["10.80.0.77/32"]
    assert 'rel="next"' in out["link"] and len(out["first"]) == 1
    assert p["public_key"] in out["peers"]
    assert "[Interface]" in out["conf"] and "[Peer]" in out["conf"]
    assert f"PresharedKey = {psk}" in out["conf"]
    assert out["deleted"] == 200
    assert p["public_key"] not in vpn.device_peers()


def test_no_peer_changes_while_a_change_awaits_confirmation(vpn):
    """A rollback would bring back a config the peer checks never saw:
    while a change is on probation, peers are not changed (409). And a
    runtime peer that a config declares too never keeps the config from
    loading: the config's peer wins, with a warning."""
    op, base, admin = vpn.op, vpn.base, vpn.admin
    _, pub = wg_genkey()
    st, _, p = op.post(f"{base}/peers/", {"public_key": pub,
                                          "allowed_ips": ["10.80.0.20/32"]})
    assert st == 201, p
    st, _, cfg = admin.get("/api/config")
    staged = cfg["config"] + "# on probation\n"
    st, _, e = admin.request("PUT", "/api/config/staged", staged,
                             headers={"Content-Type": "text/plain"})
    assert st == 200, e
    st, _, e = admin.post("/api/config/apply", {"confirm_within": 60})
    assert st == 200, e
    _, other = wg_genkey()
    st, _, e = op.post(f"{base}/peers/", {"public_key": other})
    assert st == 409 and e["code"] == "awaiting_confirm", e
    st, _, e = op.request("DELETE", f"{base}/peers/{urlsafe(pub)}/")
    assert st == 409, e
    assert admin.post("/api/config/confirm")[0] == 200
    # the config now declares the runtime peer's key as its own
    st, _, cfg = admin.get("/api/config")
    clash = cfg["config"].replace(
        '    peer "office" {',
        f'    peer "dup" {{\n      public_key  = "{pub}"\n'
        f'      allowed_ips = ["10.80.0.21/32"]\n    }}\n'
        '    peer "office" {', 1)
    st, _, e = admin.request("PUT", "/api/config/staged", clash,
                             headers={"Content-Type": "text/plain"})
    assert st == 200, e
    st, _, e = admin.post("/api/config/apply")
    assert st == 200, e
    assert any("added at runtime have the same public key" in
               d["message"] and d["severity"] == "warning"
               for d in e["diagnostics"]), e
    # ctl still starts with it, and the device has the config's peer
    vpn.ctl.stop()
    vpn.ctl.start()
    poll(lambda: pub in vpn.device_peers(), 10, what="the peer")


def test_patch_makes_a_lost_peer_whole_again(vpn):
    """A peer the device lost (removed by hand with wg) that is patched
    comes back whole: its allowed IPs and keepalive too, not only the
    field the PATCH changed."""
    op, base = vpn.op, vpn.base
    _, pub = wg_genkey()
    st, _, p = op.post(f"{base}/peers/", {
        "public_key": pub, "allowed_ips": ["10.80.0.30/32"],
        "persistent_keepalive_interval": "25s"})
    assert st == 201, p
    vpn.ctl.gw.run("wg", "set", vpn.dev, "peer", pub, "remove")
    assert pub not in vpn.device_peers()
    st, _, p = op.request("PATCH", f"{base}/peers/{urlsafe(pub)}/",
                          {"persistent_keepalive_interval": "30s"})
    assert st == 200, p
    dump = vpn.ctl.gw.run("wg", "show", vpn.dev, "dump").stdout
    line = [l.split("\t") for l in dump.splitlines() if l.startswith(pub)]
    assert line, dump
    assert line[0][3] == "10.80.0.30/32" and line[0][7] == "30", line


def revision_ids(admin):
    st, _, revs = admin.get("/api/config/revisions")
    assert st == 200, revs
    return [r["id"] for r in revs["revisions"]]


def test_device_create_and_patch(vpn):
    """A device made through the API is a block added to the config file
    and applied as a staged config is: wg sees it, the file has it, a
    revision is recorded, and a PATCH changes the block and the device."""
    admin, gw = vpn.admin, vpn.ctl.gw
    name = f"mn{vpn.tag}"
    vpn.extra.append(name)
    priv, pub = wg_genkey()
    old = vpn.ctl.cfg.read_text()
    revs = revision_ids(admin)
    st, _, d = admin.post("/v1/devices/", {
        "name": name, "listen_port": WG_PORT + 1, "private_key": priv,
        "firewall_mark": 42, "networks": ["10.81.0.1/24"]})
    assert st == 201, d
    assert d["name"] == name and d["public_key"] == pub, d
    assert d["listen_port"] == WG_PORT + 1 and d["firewall_mark"] == 42
    assert d["networks"] == ["10.81.0.1/24"] and d["peers_count"] == 0
    assert "private_key" not in d
    # the device runs as the config says
    assert gw.run("wg", "show", name, "listen-port").stdout.strip() == \
        str(WG_PORT + 1)
    assert gw.run("wg", "show", name, "public-key").stdout.strip() == pub
    assert gw.run("wg", "show", name, "fwmark").stdout.strip() == "0x2a"
    addrs = json.loads(gw.run("ip", "-j", "addr", "show", name).stdout)
    assert {"10.81.0.1"} <= {a["local"] for a in addrs[0]["addr_info"]}
    # the file has the block, inside vpn, and the rest as it was
    text = vpn.ctl.cfg.read_text()
    assert f'  wireguard "{name}" {{\n    interface = "{name}"\n' in text
    assert f"    listen_port = {WG_PORT + 1}\n" in text
    assert '    address = ["10.81.0.1/24"]\n' in text
    head = old[:old.rindex("}")]          # everything before vpn's brace
    assert text.startswith(head) and text.endswith("}\n")
    # listed; the API's config shows it, its key redacted
    st, _, devs = admin.get("/v1/devices/")
    assert name in [x["name"] for x in devs]
    st, _, cfg = admin.get("/api/config")
    assert f'wireguard "{name}"' in cfg["config"]
    assert '    private_key = "(redacted)"' in cfg["config"]
    assert priv not in cfg["config"]
    # a revision, audited; the key nowhere in the log or the audit
    now = revision_ids(admin)
    assert now[0] not in revs and cfg["revision"] == now[0]
    audit = vpn.ctl.audit()
    assert "wg.device.add" in audit and name in audit
    assert priv not in audit and priv not in vpn.ctl.log.read_text()
    # a reload finds nothing to do: the file is what runs
    assert "wg: unchanged" in vpn.ctl.ask("reload").stdout
    # PATCH: the port changes in the file and on the device
    st, _, d = admin.request("PATCH", f"/v1/devices/{name}/",
                             {"listen_port": WG_PORT + 2})
    assert st == 200 and d["listen_port"] == WG_PORT + 2, d
    assert gw.run("wg", "show", name, "listen-port").stdout.strip() == \
        str(WG_PORT + 2)
    assert f"    listen_port = {WG_PORT + 2}\n" in vpn.ctl.cfg.read_text()
    assert admin.get(f"/v1/devices/{name}/")[2]["listen_port"] == \
        WG_PORT + 2
    assert "wg.device.update" in vpn.ctl.audit()
    # the config's own device too; the same values again change nothing
    st, _, d = admin.request("PATCH", f"{vpn.base}/",
                             {"networks": ["10.80.0.1/24", "fd80::1/64"],
                              "mtu": 1380})
    assert st == 200 and d["networks"] == ["10.80.0.1/24", "fd80::1/64"]
    assert d["mtu"] == 1380
    before = revision_ids(admin)
    st, _, d = admin.request("PATCH", f"{vpn.base}/", {"mtu": 1380})
    assert st == 200 and revision_ids(admin) == before
    # without a key: moat makes one and keeps it, as for the config's
    other = f"mo{vpn.tag}"
    vpn.extra.append(other)
    st, _, d = admin.post("/v1/devices/", {"name": other})
    assert st == 201, d
    assert gw.run("wg", "show", other, "public-key").stdout.strip() == \
        d["public_key"] != ""
    assert "private_key" not in vpn.ctl.cfg.read_text().split(
        f'wireguard "{other}"')[1]
    # a name the config has answers 409
    for taken in (name, vpn.dev, "vpn0"):
        st, _, e = admin.post("/v1/devices/", {"name": taken})
        assert st == 409 and e["code"] == "device_exists", e


def test_device_requests_refused(vpn):
    admin, op, viewer = vpn.admin, vpn.op, vpn.viewer
    name = f"mn{vpn.tag}"
    vpn.extra.append(name)
    old = vpn.ctl.cfg.read_text()
    # bad input: 400 before anything is edited
    for body in ({"listen_port": 51990},                 # no name
                 {"name": ""}, {"name": "has space"}, {"name": "a/b"},
                 {"name": "x" * 16}, {"name": 7},
                 {"name": name, "listen_port": 0},
                 {"name": name, "listen_port": 70000},
                 {"name": name, "listen_port": "51990"},
                 {"name": name, "networks": ["10.82.0.1"]},
                 {"name": name, "networks": ["nope/24"]},
                 {"name": name, "private_key": "not a key"},
                 {"name": name, "mtu": 100},
                 {"name": name, "table": "main"},
                 {"name": name, "post_up": ["rm -rf /"]},
                 {"name": name, "colour": "red"}):
        st, _, e = admin.post("/v1/devices/", body)
        assert st == 400 and e["code"] == "invalid_request", (body, e)
    st, _, e = admin.request("PATCH", f"{vpn.base}/", {"name": "other0"})
    assert st == 400, e
    st, _, e = admin.request("PATCH", f"{vpn.base}/", {"listen_port": -1})
    assert st == 400, e
    # roles: admin only
    for c in (op, viewer):
        assert c.post("/v1/devices/", {"name": name})[0] == 403
        assert c.request("PATCH", f"{vpn.base}/",
                         {"listen_port": 51991})[0] == 403
    # no such device
    st, _, e = admin.request("PATCH", "/v1/devices/nope0/",
                             {"listen_port": 51991})
    assert st == 404 and e["code"] == "device_not_found", e
    # a config that does not apply: 422 with the diagnostics, and the
    # file and the device as they were (the port is vpn0's)
    st, _, e = admin.post("/v1/devices/", {"name": name,
                                           "listen_port": WG_PORT})
    assert st == 422 and e["code"] == "invalid_config", e
    assert "listen_port" in e["message"] and e["diagnostics"], e
    assert vpn.ctl.cfg.read_text() == old
    assert admin.get(f"/v1/devices/{name}/")[0] == 404
    assert "wg.device.add" in vpn.ctl.audit()
    assert vpn.ctl.gw.run("wg", "show", name, check=False).returncode != 0
    # a name a link that is not WireGuard has: refused by the apply, and
    # the link as it was
    st, _, e = admin.post("/v1/devices/", {"name": "eth1"})
    assert st == 422 and "not a WireGuard" in e["message"], e
    addrs = json.loads(vpn.ctl.gw.run("ip", "-j", "addr", "show",
                                      "eth1").stdout)
    assert "10.0.0.1" in {a["local"] for a in addrs[0]["addr_info"]}
    # nothing was edited by any of it
    assert vpn.ctl.cfg.read_text() == old


def test_device_changes_wait_for_confirmation(vpn):
    """While a change is on probation a device is not changed (409), and a
    config staged before a device change is refused by apply (it was
    staged against an older revision)."""
    admin = vpn.admin
    name = f"mn{vpn.tag}"
    vpn.extra.append(name)
    st, _, cfg = admin.get("/api/config")
    staged = cfg["config"] + "# staged before\n"
    st, _, e = admin.request("PUT", "/api/config/staged", staged,
                             headers={"Content-Type": "text/plain"})
    assert st == 200, e
    st, _, d = admin.post("/v1/devices/", {"name": name,
                                           "listen_port": WG_PORT + 3})
    assert st == 201, d
    st, _, e = admin.post("/api/config/apply")
    assert st == 409 and "changed since this was staged" in e["message"], e
    # stage again, apply on probation: device changes wait
    st, _, cfg = admin.get("/api/config")
    st, _, e = admin.request("PUT", "/api/config/staged",
                             cfg["config"] + "# on probation\n",
                             headers={"Content-Type": "text/plain"})
    assert st == 200, e
    st, _, e = admin.post("/api/config/apply", {"confirm_within": 60})
    assert st == 200, e
    st, _, e = admin.request("PATCH", f"/v1/devices/{name}/",
                             {"listen_port": WG_PORT + 4})
    assert st == 409 and e["code"] == "awaiting_confirm", e
    st, _, e = admin.post("/v1/devices/", {"name": f"mo{vpn.tag}"})
    assert st == 409 and e["code"] == "awaiting_confirm", e
    assert admin.post("/api/config/confirm")[0] == 200
    st, _, d = admin.request("PATCH", f"/v1/devices/{name}/",
                             {"listen_port": WG_PORT + 4})
    assert st == 200 and d["listen_port"] == WG_PORT + 4, d
    assert vpn.ctl.gw.run("wg", "show", name,
                          "listen-port").stdout.strip() == str(WG_PORT + 4)
