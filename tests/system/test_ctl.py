"""moat ctl, the daemon, end to end in a gateway namespace: reloads that
touch only what changed, rollback when a later component fails,
commit-confirmed, the integrity monitor against `nft` and `ip` run by
hand, the sandboxed api process, ctl.sock's access check, a takeover under
load, and a kill -9 in the middle of an apply.

    +-----------+ eth0          eth0 +-----------+ eth1          eth0 +---------+
    | upstream  |--------------------|    gw     |--------------------|   lan   |
    | 192.0.2.1 |        192.0.2.2   | moat ctl  |  10.0.0.1          |10.0.0.2 |
    +-----------+                    +-----------+                    +---------+

Each test has its own state and run directories (ctl.sock lives in the
latter) and stops its ctl by PID.
"""
import json
import os
import shutil
import signal
import sqlite3
import tempfile
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import poll

UP, GW_UP = "192.0.2.1", "192.0.2.2"
LAN_GW, LAN_HOST = "10.0.0.1", "10.0.0.2"
API_PORT = 18080

BASE = """\
state_dir     = "{state}"
ip_forwarding = true

interface "eth0" {
  ipv4    = ["192.0.2.2/24"]
  gateway = "192.0.2.1"
}
interface "eth1" {
  ipv4 = ["10.0.0.1/24"]
}
policy "eth1" "self" {
  action = "accept"
}
policy "eth1" "eth0" {
  action = "accept"
}
"""

WEB = 'policy "eth0" "self" {\n  rule "web" {\n    proto = "tcp"\n' \
      '    dest_port = 80\n    action = "accept"\n  }\n}\n'
ROUTE = 'route "office" {\n  destination = "10.9.0.0/16"\n' \
        '  gateway = "192.0.2.1"\n}\n'
API = f'api {{\n  listen = "127.0.0.1:{API_PORT}"\n}}\n'


class Ctl:
    """A gateway namespace with moat ctl running in it."""

    def __init__(self, t, tmp_path, moat):
        self.t, self.gw, self.moat = t, t.gw, moat
        self.state = tmp_path / "state"
        # not under pytest's 0700 directories: a stranger must be able to
        # reach ctl.sock for SO_PEERCRED to be what refuses them
        self.run_dir = Path(tempfile.mkdtemp(prefix="moat-ctl-run-"))
        self.cfg = tmp_path / "moat.hcl"
        self.log = tmp_path / "ctl.log"
        self.proc = None

    def write(self, body):
        self.cfg.write_text(body.replace("{state}", str(self.state)))

    def start(self, *args):
        self.proc = self.gw.spawn(self.moat, "ctl", "-c", self.cfg, *args,
                                  log=self.log)
        poll(lambda: self.ask("revisions", check=False).returncode == 0 or
             self.dead(), 20, what="ctl to answer")
        assert not self.dead(), self.log.read_text()
        return self.proc

    def dead(self):
        return self.proc.poll() is not None

    def ask(self, *argv, check=True):
        return self.gw.run(self.moat, *argv, check=check)

    def status(self):
        return json.loads(self.ask("status", "--json", "-c", self.cfg,
                                   check=False).stdout)["ctl"]

    def audit(self):
        return self.ask("audit", "-n", "1000").stdout

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)


@pytest.fixture
def ctl(netns_factory, tmp_path, moat_bin, monkeypatch):
    t = netns_factory()
    for role in ("gw", "up", "lan"):
        t.add(role)
    t.gw.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name",
             "eth0", "netns", t.up.name)
    t.gw.run("ip", "link", "add", "eth1", "type", "veth", "peer", "name",
             "eth0", "netns", t.lan.name)
    t.up.run("ip", "addr", "add", f"{UP}/24", "dev", "eth0")
    t.up.run("ip", "link", "set", "eth0", "up")
    t.lan.run("ip", "addr", "add", f"{LAN_HOST}/24", "dev", "eth0")
    t.lan.run("ip", "link", "set", "eth0", "up")
    c = Ctl(t, tmp_path, moat_bin)
    monkeypatch.setenv("MOAT_RUN_DIR", str(c.run_dir))
    monkeypatch.delenv("MOAT_STATE_DIR", raising=False)
    yield c
    c.stop()
    shutil.rmtree(c.run_dir, ignore_errors=True)


def ipj(ns, *argv):
    return json.loads(ns.run("ip", "-j", *argv).stdout or "[]")


def net_snapshot(ns):
    links = {l["ifname"]: (l.get("mtu"), sorted(
        f"{a['local']}/{a['prefixlen']}" for a in l.get("addr_info", [])
        if a.get("scope") != "link")) for l in ipj(ns, "addr")}
    routes = sorted(json.dumps(r, sort_keys=True) for r in ipj(
        ns, "-4", "route", "show", "table", "all", "proto", "77"))
    return links, routes


def table_handles(ns):
    """Every chain's handle: a replaced table gets new ones."""
    return sorted((o["chain"]["name"], o["chain"]["handle"])
                  for o in ns.nft_json("table", "inet", "moat")["nftables"]
                  if "chain" in o)


def rules_text(ns):
    return ns.nft_text("table", "inet", "moat")


def test_reload_changes_only_what_changed(ctl):
    ctl.write(BASE + ROUTE)
    ctl.start()
    net0 = net_snapshot(ctl.gw)
    assert "10.9.0.0/16" in json.dumps(net0[1])
    fw0 = table_handles(ctl.gw)
    # a changed rule: only the firewall
    ctl.write(BASE + ROUTE + WEB)
    r = ctl.ask("reload")
    assert "wg: unchanged" in r.stdout and "net: unchanged" in r.stdout
    assert "fw: applied" in r.stdout, r.stdout
    assert "dport 80 accept" in rules_text(ctl.gw)
    assert table_handles(ctl.gw) != fw0
    assert net_snapshot(ctl.gw) == net0
    # the same again: nothing
    fw1 = table_handles(ctl.gw)
    r = ctl.ask("reload")
    assert r.stdout.count("unchanged") == 3, r.stdout
    assert table_handles(ctl.gw) == fw1
    # a changed route: only the network
    ctl.write(BASE + WEB)
    r = ctl.ask("reload")
    assert "net: applied" in r.stdout and "fw: unchanged" in r.stdout
    assert "10.9.0.0/16" not in json.dumps(net_snapshot(ctl.gw)[1])
    assert table_handles(ctl.gw) == fw1
    revs = json.loads(ctl.ask("revisions", "--json").stdout)
    assert [v["result"] for v in revs["revisions"]][:4] == [
        "applied"] * 4
    # a config with an error: refused at its line, the old one runs
    ctl.write(BASE + WEB + 'route "x" {\n  destination = "10.1.2.3/16"\n'
              '  gateway = "192.0.2.1"\n}\n')
    r = ctl.ask("reload", check=False)
    assert r.returncode == 1
    assert "moat.hcl:" in r.stderr and "10.1.0.0/16" in r.stderr
    assert table_handles(ctl.gw) == fw1
    assert "apply" in ctl.audit()


def test_failing_firewall_rolls_the_network_back(ctl, tmp_path,
                                                monkeypatch):
    fault = tmp_path / "fault"
    monkeypatch.setenv("MOAT_CTL_FAULT", str(fault))
    ctl.write(BASE)
    ctl.start()
    net0 = net_snapshot(ctl.gw)
    fw0 = rules_text(ctl.gw)
    fault.write_text("fw\n")
    ctl.write(BASE.replace('["10.0.0.1/24"]', '["10.0.0.1/24", '
                           '"10.0.1.1/24"]') + ROUTE + WEB)
    r = ctl.ask("reload", check=False)
    assert r.returncode == 1, r.stdout
    assert "net: rolled back" in r.stdout, r.stdout
    assert "fw: failed" in r.stdout
    assert "MOAT_CTL_FAULT" in r.stderr
    assert net_snapshot(ctl.gw) == net0
    assert rules_text(ctl.gw) == fw0
    revs = json.loads(ctl.ask("revisions", "--json").stdout)
    assert revs["revisions"][0]["result"] == "failed"
    assert revs["running"] == revs["revisions"][1]["id"]
    # without the fault the same config applies
    fault.unlink()
    ctl.ask("reload")
    assert "10.0.1.1/24" in net_snapshot(ctl.gw)[0]["eth1"][1]


def test_confirm_that_never_comes_rolls_back(ctl, tmp_path):
    ctl.write(BASE)
    ctl.start()
    old = ctl.cfg.read_text()
    net0 = net_snapshot(ctl.gw)
    new = tmp_path / "new.hcl"
    new.write_text(old + ROUTE)
    r = ctl.ask("apply", "-c", new, "--confirm-within", "2")
    assert "rolls back unless" in r.stdout
    assert "10.9.0.0/16" in json.dumps(net_snapshot(ctl.gw)[1])
    assert ctl.status()["awaiting_confirm"]
    # a second change waits for the first
    r = ctl.ask("reload", check=False)
    assert r.returncode == 1 and "awaits confirmation" in r.stderr
    poll(lambda: not ctl.status()["awaiting_confirm"], 10,
         what="the rollback")
    assert net_snapshot(ctl.gw) == net0
    assert ctl.cfg.read_text() == old
    revs = json.loads(ctl.ask("revisions", "--json").stdout)["revisions"]
    assert revs[0]["result"] == "rolled-back"
    assert "not confirmed in time" in ctl.audit()
    # and a confirmed one stays
    ctl.ask("apply", "-c", new, "--confirm-within", "30")
    ctl.ask("confirm")
    assert not ctl.status()["awaiting_confirm"]
    assert ctl.ask("confirm", check=False).returncode == 1
    assert json.loads(ctl.ask("revisions", "--json").stdout)[
        "revisions"][0]["result"] == "confirmed"
    assert ctl.cfg.read_text() == new.read_text()


def test_tampering_is_undone_and_audited(ctl):
    ctl.write(BASE + ROUTE + WEB)
    ctl.start()
    want = rules_text(ctl.gw)
    ctl.gw.run("nft", "flush", "table", "inet", "moat")
    poll(lambda: rules_text(ctl.gw) == want, 5, what="the flush undone")
    # one rule deleted by handle
    out = ctl.gw.run("nft", "-a", "list", "chain", "inet", "moat",
                     "policy_eth0_self").stdout
    handle = [l.split("# handle ")[1] for l in out.splitlines()
              if "dport 80" in l][0]
    ctl.gw.run("nft", "delete", "rule", "inet", "moat", "policy_eth0_self",
               "handle", handle)
    poll(lambda: "dport 80" in rules_text(ctl.gw), 5,
         what="the rule put back")
    # a route of moat's deleted by hand
    ctl.gw.run("ip", "route", "del", "10.9.0.0/16")
    poll(lambda: "10.9.0.0/16" in json.dumps(net_snapshot(ctl.gw)[1]), 5,
         what="the route put back")
    # someone else's table is not moat's business
    ctl.gw.run("nft", "add", "table", "inet", "other")
    audit = ctl.audit()
    assert audit.count("restore") >= 3, audit
    assert "route 10.9.0.0/16" in audit
    assert ctl.status()["monitor"]["restores"] >= 3
    assert "intact" in ctl.ask("audit", "verify").stdout


def api_health(ns):
    r = ns.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
               "--max-time", "5", f"http://127.0.0.1:{API_PORT}/health",
               check=False)
    return r.stdout.strip()


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def test_api_is_sandboxed_and_comes_back(ctl):
    ctl.write(BASE + API)
    ctl.start()
    poll(lambda: api_health(ctl.gw) == "200", 10, what="api /health")
    pid = ctl.status()["api"]["pid"]
    st = proc_status(pid)
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1"
    assert st["Uid"].split()[0] == "65534"
    assert os.readlink(f"/proc/{pid}/ns/net") != \
        os.readlink(f"/proc/{ctl.proc.pid}/ns/net")
    assert "refused" in ctl.log.read_text()   # its socket(AF_INET) probe
    os.kill(pid, signal.SIGKILL)
    poll(lambda: ctl.status()["api"]["pid"] not in (0, pid), 10,
         what="api restarted")
    poll(lambda: api_health(ctl.gw) == "200", 10, what="api /health again")
    assert ctl.status()["api"]["restarts"] >= 1


def test_ctl_sock_refuses_strangers(ctl):
    ctl.write(BASE)
    ctl.start()
    sock = ctl.run_dir / "ctl.sock"
    assert oct(os.stat(sock).st_mode & 0o777) == "0o660"
    nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    r = ctl.gw.run(*nobody, ctl.moat, "reload", check=False)
    assert r.returncode != 0
    # past the file modes, SO_PEERCRED still says no
    os.chmod(ctl.run_dir, 0o711)
    os.chmod(sock, 0o666)
    r = ctl.gw.run(*nobody, ctl.moat, "reload", check=False)
    assert r.returncode != 0, r.stderr
    assert "ctl.sock is for root and group moat" in r.stderr, r.stderr
    assert "permission denied" in ctl.audit()


def test_takeover_loses_no_request(ctl):
    ctl.write(BASE + API)
    old = ctl.start()
    poll(lambda: api_health(ctl.gw) == "200", 10, what="api /health")
    codes, stop = [], threading.Event()

    def hammer():
        while not stop.is_set():
            codes.append(api_health(ctl.gw))

    th = threading.Thread(target=hammer)
    th.start()
    try:
        poll(lambda: len(codes) >= 5, 10, what="requests before")
        new = ctl.gw.spawn(ctl.moat, "ctl", "--takeover", "-c", ctl.cfg,
                           log=ctl.log.with_suffix(".new"))
        old.wait(timeout=20)
        n = len(codes)
        poll(lambda: len(codes) >= n + 10, 20, what="requests after")
    finally:
        stop.set()
        th.join()
    ctl.proc = new
    assert old.returncode == 0
    assert set(codes) == {"200"}, codes
    poll(lambda: (ctl.status() or {}).get("pid") == new.pid, 10,
         what="the new ctl answering")
    # the firewall stayed and the new ctl owns the socket
    assert ctl.gw.has_table("inet", "moat")
    assert "takeover" in ctl.audit()


def test_kill_during_apply_leaves_old_or_new(ctl):
    many = 'policy "eth0" "self" {\n' + "".join(
        f'  rule "r{i}" {{\n    proto = "tcp"\n    dest_port = {1000 + i}\n'
        f'    action = "accept"\n  }}\n' for i in range(3000)) + "}\n"
    ctl.write(BASE)
    ctl.start()
    small = rules_text(ctl.gw)
    ctl.write(BASE + many)
    ctl.proc.send_signal(signal.SIGHUP)
    time.sleep(0.05)   # somewhere inside the apply
    ctl.proc.kill()
    ctl.proc.wait()
    text = rules_text(ctl.gw)
    assert text == small or text.count("dport") >= 3000
    db = sqlite3.connect(ctl.state / "moat.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    ctl.start()
    assert rules_text(ctl.gw).count("dport") >= 3000
    assert "intact" in ctl.ask("audit", "verify").stdout


def test_unconfirmed_change_does_not_survive_a_crash(ctl, tmp_path):
    ctl.write(BASE)
    ctl.start()
    old = ctl.cfg.read_text()
    net0 = net_snapshot(ctl.gw)
    new = tmp_path / "new.hcl"
    new.write_text(old + ROUTE)
    ctl.ask("apply", "-c", new, "--confirm-within", "300")
    assert ctl.cfg.read_text() == new.read_text()
    ctl.proc.kill()
    ctl.proc.wait()
    ctl.start()
    assert ctl.cfg.read_text() == old
    assert net_snapshot(ctl.gw) == net0
    revs = json.loads(ctl.ask("revisions", "--json").stdout)["revisions"]
    assert "rolled-back" in [r["result"] for r in revs]
    assert "restarted before it was confirmed" in ctl.audit()


def test_runtime_peers_go_through_ctl(wgdev, ctl):
    """moat wg peer add/del with ctl running: the device changes, ctl's
    plan takes the peer (a reload leaves it), and both are audited."""
    dev = wgdev("mc")
    ctl.write(BASE + f'vpn {{\n  wireguard "vpn0" {{\n'
              f'    interface   = "{dev}"\n    listen_port = 51999\n'
              f'    address     = ["10.78.0.1/24"]\n  }}\n}}\n')
    ctl.start()
    peers = lambda: ctl.gw.run("wg", "show", dev, "peers").stdout.split()
    assert peers() == []
    ctl.ask("wg", "peer", "add", dev, "phone", "-c", ctl.cfg)
    assert len(peers()) == 1
    assert ctl.status()["components"]["wg"]["peers"] == 1
    r = ctl.ask("reload")
    assert "wg: unchanged" in r.stdout, r.stdout
    assert len(peers()) == 1
    ctl.ask("wg", "peer", "del", dev, "phone", "-c", ctl.cfg)
    assert peers() == []
    assert ctl.status()["components"]["wg"]["peers"] == 0
    audit = ctl.audit()
    assert "wg.peer.add" in audit and "wg.peer.del" in audit


def test_systemd_notify_and_stop(ctl, monkeypatch):
    """READY, RELOADING and STOPPING reach $NOTIFY_SOCKET; SIGTERM leaves
    the firewall and routes in place, --flush-on-exit removes them."""
    import socket
    path = str(ctl.run_dir / "notify")
    ctl.run_dir.mkdir(exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    ctl.write(BASE + ROUTE)
    ctl.start()
    got = [s.recv(256).decode()]
    ctl.ask("reload")
    got += [s.recv(256).decode(), s.recv(256).decode()]
    ctl.stop()
    got.append(s.recv(256).decode())
    assert got == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"], got
    assert ctl.gw.has_table("inet", "moat")
    assert "10.9.0.0/16" in json.dumps(net_snapshot(ctl.gw)[1])
    ctl.start("--flush-on-exit")
    ctl.stop()
    assert not ctl.gw.has_table("inet", "moat")
    assert "10.9.0.0/16" not in json.dumps(net_snapshot(ctl.gw)[1])
    s.close()


def test_sigusr2_hands_over_to_a_new_ctl(ctl):
    ctl.write(BASE + API)
    old = ctl.start()
    poll(lambda: api_health(ctl.gw) == "200", 10, what="api /health")
    old.send_signal(signal.SIGUSR2)
    old.wait(timeout=20)
    assert old.returncode == 0
    new = poll(lambda: (ctl.status() or {}).get("pid"), 10,
               what="the new ctl answering")
    assert new != old.pid
    poll(lambda: api_health(ctl.gw) == "200", 10, what="api /health")
    os.kill(new, signal.SIGTERM)
    poll(lambda: not os.path.exists(f"/proc/{new}"), 20, what="it stopping")


def test_https_listener_from_the_config(ctl, tmp_path):
    """ctl reads tls_cert and tls_key (api, chrooted as nobody, cannot)
    and api serves HTTPS with them; curl checks the certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=moat-test", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o600)
    ctl.write(BASE + f'web {{\n  listen = "127.0.0.1:{API_PORT}"\n'
              f'  tls_listen = "127.0.0.1:{API_PORT + 1}"\n'
              f'  tls_cert = "{cert}"\n  tls_key = "{key}"\n}}\n')
    ctl.start()

    def https():
        return ctl.gw.run("curl", "-s", "-o", "/dev/null", "-w",
                          "%{http_code}", "--max-time", "5", "--cacert",
                          cert, f"https://127.0.0.1:{API_PORT + 1}/health",
                          check=False).stdout.strip()
    poll(lambda: https() == "200", 10, what="HTTPS /health")
    assert api_health(ctl.gw) == "200"
    # neither process keeps the key open: api read it before its sandbox,
    # ctl closed its copy once api had it
    for pid in (ctl.status()["api"]["pid"], ctl.proc.pid):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:
                continue
            assert "key.pem" not in target, (pid, target)
            assert "tls_key" not in target, (pid, target)


def test_wireguard_go_restarted_under_ctl_gets_its_peers(wgdev, ctl):
    """The supervisor restarts a killed wireguard-go; with ctl running it
    is ctl that puts the peers back (the file did not change, so an apply
    of it would find nothing to do)."""
    dev = wgdev("mk")
    pub = ctl.gw.run(ctl.moat, "wg", "pubkey", input=ctl.gw.run(
        ctl.moat, "wg", "genkey").stdout).stdout.strip()
    ctl.write(BASE + f'vpn {{\n  wireguard "vpn0" {{\n'
              f'    interface   = "{dev}"\n    listen_port = 51998\n'
              f'    address     = ["10.79.0.1/24"]\n'
              f'    peer "laptop" {{\n      public_key  = "{pub}"\n'
              f'      allowed_ips = ["10.79.0.2/32"]\n    }}\n  }}\n}}\n')
    ctl.start()
    peers = lambda: ctl.gw.run("wg", "show", dev, "peers",
                               check=False).stdout.split()
    assert peers() == [pub]
    def comm(pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip()
        except FileNotFoundError:
            return ""
    pids = subprocess.run(["ip", "netns", "pids", ctl.gw.name],
                          capture_output=True, text=True).stdout.split()
    go = [p for p in pids if comm(p) == "wireguard-go"]
    assert len(go) == 1
    os.kill(int(go[0]), signal.SIGKILL)
    poll(lambda: peers() == [pub], 20, what="the peer back on the device")
    assert "wg.sync" in ctl.audit()
