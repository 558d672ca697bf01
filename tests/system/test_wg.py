"""WireGuard, end to end: moat apply makes a device in a gateway
namespace (the kernel's when it has WireGuard, else wireguard-go under
moat's supervisor) and the other side is configured with the real tools
only: wireguard-go (or the kernel module), wg and ip.

    +--------------+ eth0            eth0 +--------------+
    |      gw      |----------------------|     road     |
    | 198.51.100.1 |                      | 198.51.100.2 |
    | DEV 10.77.0.1|  ~~~~ tunnel ~~~~~~  | RDEV 10.77.0.2|
    +--------------+                      +--------------+
            | eth1 (198.51.100.5 on road2's side, a second client)

Device names are unique per test: wireguard-go keeps its sockets in
/var/run/wireguard, which every namespace shares.
"""
import json
import os
import signal
import subprocess

import pytest

from conftest import poll

GW, ROAD, ROAD2 = "198.51.100.1", "198.51.100.2", "198.51.100.6"
TUN_GW = "10.77.0.1"

_seq = iter(range(1, 1000))


def wg_genkey():
    priv = subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                          check=True).stdout.strip()
    pub = subprocess.run(["wg", "pubkey"], input=priv + "\n",
                         capture_output=True, text=True,
                         check=True).stdout.strip()
    return priv, pub


class Side:
    """A WireGuard device made with the real tools in a namespace."""

    def __init__(self, ns, name, tmp_path):
        self.ns, self.name, self.tmp = ns, name, tmp_path
        self.priv, self.pub = wg_genkey()

    def up(self, address, peer_pub, endpoint, allowed="10.77.0.0/24",
           keepalive=None):
        if os.environ.get("MOAT_WG_BACKEND") == "kernel":
            self.ns.run("ip", "link", "add", self.name, "type", "wireguard")
        else:
            self.ns.run("wireguard-go", self.name)
        key = self.tmp / f"{self.name}.key"
        key.write_text(self.priv + "\n")
        args = ["wg", "set", self.name, "private-key", key, "peer",
                peer_pub, "endpoint", endpoint, "allowed-ips", allowed]
        if keepalive:
            args += ["persistent-keepalive", str(keepalive)]
        self.ns.run(*args)
        self.ns.run("ip", "addr", "add", address, "dev", self.name)
        self.ns.run("ip", "link", "set", self.name, "up")
        return self

    def setconf(self, conf_text, address):
        if os.environ.get("MOAT_WG_BACKEND") == "kernel":
            self.ns.run("ip", "link", "add", self.name, "type", "wireguard")
        else:
            self.ns.run("wireguard-go", self.name)
        f = self.tmp / f"{self.name}.conf"
        f.write_text(conf_text)
        self.ns.run("wg", "setconf", self.name, f)
        self.ns.run("ip", "addr", "add", address, "dev", self.name)
        self.ns.run("ip", "link", "set", self.name, "up")


def ping(ns, host, count=1, wait=2):
    return ns.run("ping", "-n", "-c", count, "-W", wait, host,
                  check=False).returncode == 0


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


@pytest.fixture
def vpn(netns_factory, tmp_path, moat_bin):
    t = netns_factory()
    for role in ("gw", "road", "road2"):
        t.add(role)
    t.link("gw", "eth0", f"{GW}/30", "road", "eth0", f"{ROAD}/30")
    t.link("gw", "eth1", "198.51.100.5/30", "road2", "eth0", f"{ROAD2}/30")
    tag = f"{os.getpid() % 100000}x{next(_seq)}"

    class V:
        pass
    v = V()
    v.t, v.tmp, v.bin = t, tmp_path, moat_bin
    v.dev = f"mw{tag}"
    v.state = tmp_path / "state"
    v.road = Side(t.road, f"mr{tag}", tmp_path)
    v.road2 = Side(t.road2, f"ms{tag}", tmp_path)
    v.cfg = tmp_path / "moat.hcl"

    def config(extra_peers="", device_extra=""):
        return f"""
state_dir = "{v.state}"
interface "eth0" {{
  zone = "wan"
}}
interface "eth1" {{
  zone = "wan"
}}
policy "vpn" "self" {{
  action = "accept"
}}
vpn {{
  wireguard "home" {{
    interface   = "{v.dev}"
    zone        = "vpn"
    listen_port = 51820
    address     = ["10.77.0.1/24"]
{device_extra}
    peer "road" {{
      public_key  = "{v.road.pub}"
      allowed_ips = ["10.77.0.2/32"]
    }}
{extra_peers}
  }}
}}
"""

    def apply(text=None, check=True):
        v.cfg.write_text(text if text is not None else config())
        return t.gw.run(moat_bin, "apply", "-c", v.cfg, check=check)

    def moat(*args, check=True, input=None):
        return t.gw.run(moat_bin, *args, check=check, input=input)

    v.config, v.apply, v.moat = config, apply, moat
    yield v
    # stale UAPI sockets of devices whose process was killed
    for name in (v.dev, v.road.name, v.road2.name):
        try:
            os.unlink(f"/var/run/wireguard/{name}.sock")
        except FileNotFoundError:
            pass


def ns_pids(ns):
    """The processes in a namespace, asked from outside it."""
    r = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True,
                       text=True, check=True)
    return r.stdout.split()


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def gw_pub(v):
    return v.t.gw.run("wg", "show", v.dev, "public-key").stdout.strip()


def connect_road(v):
    v.road.up("10.77.0.2/24", gw_pub(v), f"{GW}:51820")


def test_ping_through_the_tunnel_both_ways(vpn):
    r = vpn.apply()
    assert "wireguard: applied" in r.stdout, r.stdout
    connect_road(vpn)
    assert ping(vpn.t.road, TUN_GW, count=2)
    assert ping(vpn.t.gw, "10.77.0.2")
    # the key moat generated is kept, 0600, and never printed
    key = vpn.state / "wg" / f"{vpn.dev}.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert key.read_text().strip() not in r.stdout + r.stderr
    # a second apply changes nothing
    again = vpn.apply()
    assert "wireguard: unchanged" in again.stdout, again.stdout


def test_wg_show_agrees_with_moat_status(vpn):
    vpn.apply()
    connect_road(vpn)
    assert ping(vpn.t.road, TUN_GW)
    dump = vpn.t.gw.run("wg", "show", vpn.dev, "dump").stdout.splitlines()
    dev = dump[0].split("\t")
    peers = {f[0]: f for f in (line.split("\t") for line in dump[1:])}
    st = json.loads(vpn.moat("status", "--json", "-c", vpn.cfg,
                             check=False).stdout)
    (mine,) = [d for d in st["wireguard"] if d["name"] == vpn.dev]
    assert mine["public_key"] == dev[1]
    assert mine["listen_port"] == int(dev[2])
    assert {p["public_key"] for p in mine["peers"]} == set(peers)
    for p in mine["peers"]:
        f = peers[p["public_key"]]
        assert p["endpoint"] == f[2]
        assert p["allowed_ips"] == f[3].split(",")
        assert p["latest_handshake"] == int(f[4]) and int(f[4]) > 0
        assert p["rx_bytes"] <= int(f[5]) and p["tx_bytes"] <= int(f[6])
    text = vpn.moat("status", "-c", vpn.cfg, check=False).stdout
    assert f"wireguard {vpn.dev}: public key {dev[1]}, port 51820" in text


def test_runtime_peers_take_effect_and_survive(vpn):
    vpn.apply()
    r = vpn.moat("wg", "peer", "add", vpn.dev, "laptop", "-c", vpn.cfg,
                 "--public-key", vpn.road2.pub)
    # the first free address: .1 is the gateway, .2 is road
    assert "10.77.0.3/32" in r.stderr
    vpn.road2.up("10.77.0.3/24", gw_pub(vpn), "198.51.100.5:51820")
    assert ping(vpn.t.road2, TUN_GW)
    listed = json.loads(vpn.moat("wg", "peer", "list", vpn.dev, "-c",
                                 vpn.cfg, "--json").stdout)
    assert {(p["name"], p["source"]) for p in listed} == {
        ("road", "config"), ("laptop", "runtime")}
    # a name or key that is taken is a clear error
    r = vpn.moat("wg", "peer", "add", vpn.dev, "road", "-c", vpn.cfg,
                 check=False)
    assert r.returncode == 1 and "peer \"road\" of the config" in r.stderr
    # an apply keeps the runtime peer (it is merged, not removed)
    vpn.apply()
    assert vpn.road2.pub in vpn.t.gw.run("wg", "show", vpn.dev,
                                         "peers").stdout
    # and deleting it takes it off the device at once
    vpn.moat("wg", "peer", "del", vpn.dev, "laptop", "-c", vpn.cfg)
    assert vpn.road2.pub not in vpn.t.gw.run("wg", "show", vpn.dev,
                                             "peers").stdout
    assert not ping(vpn.t.road2, TUN_GW, wait=1)
    # a config peer cannot be deleted at runtime
    r = vpn.moat("wg", "peer", "del", vpn.dev, "road", "-c", vpn.cfg,
                 check=False)
    assert r.returncode == 1 and "in the config" in r.stderr


def test_exported_client_config_gets_a_handshake(vpn):
    vpn.apply()
    r = vpn.moat("wg", "peer", "add", vpn.dev, "phone", "-c", vpn.cfg,
                 "--psk", "--server-endpoint", "198.51.100.5")
    conf = r.stdout
    assert "PrivateKey" in conf and "PresharedKey" in conf
    assert "Endpoint = 198.51.100.5:51820" in conf
    addr = [ln.split("=", 1)[1].strip() for ln in conf.splitlines()
            if ln.startswith("Address")][0]
    assert addr == "10.77.0.3/32"
    vpn.road2.setconf(strip_quick(conf), "10.77.0.3/24")
    assert ping(vpn.t.road2, TUN_GW)
    hs = vpn.t.road2.run("wg", "show", vpn.road2.name,
                         "latest-handshakes").stdout.split()
    assert int(hs[1]) > 0
    # exported later, the client's private key is not known any more
    later = vpn.moat("wg", "export", vpn.dev, "phone", "-c", vpn.cfg,
                     "--server-endpoint", "198.51.100.5").stdout
    assert "\nPrivateKey" not in later and "PublicKey" in later
    qr = vpn.moat("wg", "export", vpn.dev, "phone", "-c", vpn.cfg,
                  "--qr").stdout
    assert "\u2580" in qr or "\u2584" in qr or "\u2588" in qr
    png = vpn.tmp / "phone.png"
    vpn.moat("wg", "export", vpn.dev, "phone", "-c", vpn.cfg, "--png", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_imported_wg_quick_file_works(vpn):
    priv, pub = wg_genkey()
    quick = vpn.tmp / f"{vpn.dev}.conf"
    quick.write_text(f"""# written by hand, as for wg-quick
[Interface]
PrivateKey = {priv}
Address = 10.77.0.1/24
ListenPort = 51820
PostUp = iptables -A FORWARD -i %i -j ACCEPT

[Peer]
# Name = road
PublicKey = {vpn.road.pub}
AllowedIPs = 10.77.0.2/32
""")
    r = vpn.moat("wg", "import", quick)
    assert "PostUp" in r.stderr  # reported, not run
    hcl = r.stdout
    cfg = f"""
state_dir = "{vpn.state}"
interface "eth0" {{
  zone = "wan"
}}
{hcl}
"""
    vpn.apply(cfg)
    assert gw_pub(vpn) == pub
    # road's keepalive makes the handshake (the device is in no zone, so
    # the firewall drops road's own pings to the gateway), after which
    # the gateway knows road's endpoint and reaches it
    vpn.road.up("10.77.0.2/24", pub, f"{GW}:51820", keepalive=1)
    poll(lambda: ping(vpn.t.gw, "10.77.0.2", wait=1), timeout=10,
         what="ping from the gateway through the imported device")
    assert not ping(vpn.t.road, TUN_GW, wait=1)


def test_killed_wireguard_go_comes_back_with_its_peers(vpn):
    if os.environ.get("MOAT_WG_BACKEND") == "kernel":
        pytest.skip("the kernel backend has no process to kill")
    vpn.apply()
    vpn.moat("wg", "peer", "add", vpn.dev, "laptop", "-c", vpn.cfg,
             "--public-key", vpn.road2.pub)
    before = sorted(vpn.t.gw.run("wg", "show", vpn.dev,
                                 "peers").stdout.split())
    (go,) = [p for p in ns_pids(vpn.t.gw) if comm(p) == "wireguard-go"]
    os.kill(int(go), signal.SIGKILL)

    def back():
        r = vpn.t.gw.run("wg", "show", vpn.dev, "peers", check=False)
        return r.returncode == 0 and sorted(r.stdout.split()) == before
    poll(back, timeout=20, what="the device back with its peers")
    connect_road(vpn)
    poll(lambda: ping(vpn.t.road, TUN_GW, wait=1), timeout=10,
         what="ping through the restarted device")


def test_removing_the_device(vpn):
    vpn.apply()
    assert vpn.t.gw.run("ip", "link", "show", vpn.dev,
                        check=False).returncode == 0
    vpn.apply(f"""
state_dir = "{vpn.state}"
interface "eth0" {{
  zone = "wan"
}}
""")
    assert vpn.t.gw.run("ip", "link", "show", vpn.dev,
                        check=False).returncode != 0
    assert ns_pids(vpn.t.gw) == []  # the supervisor and wireguard-go
