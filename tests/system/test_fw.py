"""The firewall, end to end: moat apply in a gateway namespace, real
traffic from real tools through it, and the kernel read back with nft.

    +------------+ eth0           eth0 +---------------+ eth1          eth0 +------------+
    |  wan host  |---------------------|    gateway    |--------------------|  lan host  |
    | 203.0.113.2|        203.0.113.1  |  moat apply   |  192.168.50.1      |192.168.50.2|
    +------------+  (no route to the   |  table inet   |                    +------------+
                     LAN: it sees the  |  moat         |
                     masquerade)       +---------------+
                                               | eth2 10.0.60.1
                                               |
                                               | eth0
                                        +--------------+
                                        |  dmz server  |
                                        |  10.0.60.10  |
                                        +--------------+

Zones: eth0 wan, eth1 lan, eth2 dmz. The lan host and the dmz server route
by default through the gateway. Each test gets four fresh namespaces (see
conftest.py) and its own state_dir. In the host namespace only pure
commands run (moat check, moat compile) and `unshare -n nft -c`, which has
a namespace of its own.

Expected failures use 1 s timeouts and are told apart by what the client
sees: a refused connection (RST or ICMP) or a timeout (drop). Nothing waits
on the clock: listeners are polled until they listen, and throttling is
judged by counts.
"""
import json
import re
import subprocess

import pytest

from conftest import (DMZ_GW, DMZ_HOST, LAN_GW, LAN_HOST, WAN_GW, WAN_HOST,
                      poll, python3)

# --- configs ------------------------------------------------------------------

HEAD = """\
schema_version = "1.1"
ip_forwarding  = true
state_dir      = "{state}"

interface "eth0" {{
  zone = "wan"
  ipv4 = ["203.0.113.1/24"]
}}
interface "eth1" {{
  zone = "lan"
  ipv4 = ["192.168.50.1/24"]
}}
interface "eth2" {{
  zone = "dmz"
  ipv4 = ["10.0.60.1/24"]
}}
"""

# Every config a test applies. test_compile_loads_in_nft checks them all.
CONFIGS = {
    # masquerade out, a port forward wan:8080 -> dmz:80 with hairpin
    "nat": """
policy "lan" "wan" {
  masquerade = true
  rule "all" {
    action = "accept"
  }
}
policy "wan" "dmz" {
  rule "web" {
    proto     = "tcp"
    dest_port = 80
    dest_ip   = "10.0.60.10"
    action    = "accept"
  }
}
policy "lan" "dmz" {
  rule "web" {
    proto     = "tcp"
    dest_port = 80
    action    = "accept"
  }
}
nat "web" {
  type         = "dnat"
  in_interface = "eth0"
  proto        = "tcp"
  dest_port    = "8080"
  to_ip        = "10.0.60.10"
  to_port      = "80"
  hairpin      = true
}
""",
    # a rule that rejects, one that drops, a policy that rejects
    "verdicts": """
policy "lan" "wan" {
  masquerade = true
  rule "refuse" {
    proto     = "tcp"
    dest_port = 81
    action    = "reject"
  }
  rule "silence" {
    proto     = "tcp"
    dest_port = 82
    action    = "drop"
  }
  rule "rest" {
    action = "accept"
  }
}
policy "lan" "dmz" {
  action = "reject"
}
""",
    # icmp to the dmz, throttled and counted
    "limit": """
policy "lan" "dmz" {
  rule "ping" {
    proto   = "icmp"
    limit   = "2/second burst 2"
    counter = true
    action  = "accept"
  }
}
""",
    # zones narrowed by address on both sides: the lan host is a guest,
    # the dmz server is in dmz_hosts; only the lan zone may reach dmz_hosts
    "narrowed": """
zone "guest" {
  match {
    interface = "eth1"
    src       = "192.168.50.2/32"
  }
}
zone "dmz_hosts" {
  match {
    interface = "eth2"
    src       = "10.0.60.0/24"
  }
}
policy "lan" "dmz_hosts" {
  action = "accept"
}
policy "guest" "wan" {
  masquerade = true
  action     = "accept"
}
""",
    # the lan may manage the gateway (ssh, ping); the wan may not
    "management": """
zone "wan" {}
zone "lan" {
  management {
    ssh  = true
    icmp = true
  }
}
policy "lan" "wan" {
  masquerade = true
  rule "all" {
    action = "accept"
  }
}
""",
    # destinations in the set are dropped; the set starts empty
    "blocklist": """
ipset "blocked" {
  type = "ipv4_addr"
}
policy "lan" "wan" {
  masquerade = true
  rule "blocked" {
    dest_ipset = "blocked"
    action     = "drop"
  }
  rule "rest" {
    action = "accept"
  }
}
""",
    # tcp to port 8080 marked 0x40, what `policy_route { mark = "0x40" }`
    # would steer; the lan may reach the dmz (the mark's second path)
    "marks": """
policy "lan" "wan" {
  masquerade = true
  action     = "accept"
}
policy "lan" "dmz" {
  action = "accept"
}
mark_rule "web8080" {
  proto    = "tcp"
  dst_port = 8080
  mark     = "0x40"
}
""",
    # one counted rule, to see whether a reload happened
    "counted": """
policy "lan" "wan" {
  masquerade = true
  rule "all" {
    action  = "accept"
    counter = true
  }
}
""",
}

# Valid for moat (moat check passes) but refused by the kernel: a set whose
# size is smaller than its elements (ENFILE). Not in CONFIGS: nft -c refuses
# it too, on purpose.
OVERSIZED = CONFIGS["blocklist"] + """
ipset "tiny" {
  type    = "ipv4_addr"
  size    = 1
  entries = ["192.0.2.1", "192.0.2.2"]
}
"""

# --- helpers ------------------------------------------------------------------


class Gw:
    """The gateway namespace with moat: configs, apply, status, nft."""

    def __init__(self, topo, tmp_path, moat):
        self.t = topo
        self.ns = topo.gw
        self.dir = tmp_path
        self.state = tmp_path / "state"
        self.bin = moat

    def config(self, name, text=None):
        """Writes CONFIGS[name] (or text) under this test's tmp dir."""
        body = CONFIGS[name] if text is None else text
        p = self.dir / f"{name}.hcl"
        p.write_text(HEAD.format(state=self.state) + body)
        return p

    def moat(self, *args):
        return self.ns.run(self.bin, *args, check=False)

    def apply(self, cfg, *flags):
        r = self.moat("apply", "-c", cfg, *flags)
        assert r.returncode == 0, f"moat apply failed:\n{r.stdout}{r.stderr}"
        # the firewall's report; the network's line comes first
        return "".join(ln for ln in r.stdout.splitlines(True)
                       if not ln.startswith("network:"))

    def status(self, cfg):
        r = self.moat("status", "-c", cfg, "--json")
        assert r.returncode in (0, 1), r.stderr
        s = json.loads(r.stdout)
        assert (r.returncode == 0) == (s["status"] == "ok"), r.stdout
        return s

    def table_text(self):
        """`nft -j list table inet moat` as the kernel prints it."""
        return self.ns.run("nft", "-j", "list", "table", "inet",
                           "moat").stdout

    def rules(self, comment=None):
        objs = json.loads(self.table_text())["nftables"]
        return [o["rule"] for o in objs if "rule" in o and
                (comment is None or o["rule"].get("comment") == comment)]

    def rule(self, comment):
        found = self.rules(comment)
        assert len(found) == 1, f"rules with comment {comment!r}: {found}"
        return found[0]

    def has_moat(self):
        return self.ns.has_table("inet", "moat")


@pytest.fixture
def gw(gateway, tmp_path, moat_bin):
    return Gw(gateway, tmp_path, moat_bin)


def expr_has(rule, key):
    """The first statement or match of rule whose key is key, or None."""
    for e in rule["expr"]:
        if key in e:
            return e[key]
    return None


def tcp(ns, host, port):
    """Connects with nc and says what the client saw: 'open', 'refused'
    (ECONNREFUSED: a reset or ICMP port unreachable) or 'timeout' (1 s,
    nothing came back). Anything else (no route...) fails the test."""
    r = ns.run("nc", "-z", "-v", "-w", "1", host, port, check=False)
    if r.returncode == 0:
        return "open"
    if "Connection refused" in r.stderr:
        return "refused"
    if "timed out" in r.stderr:
        return "timeout"
    raise AssertionError(f"nc {host} {port}: {r.returncode} {r.stderr}")


def peer_echo(ns, port):
    """A socat listener that answers each connection with the address it
    sees the connection come from."""
    p = ns.spawn("socat", f"TCP-LISTEN:{port},reuseaddr,fork",
                 "SYSTEM:echo $SOCAT_PEERADDR")
    ns.wait_listen(port, proc=p)
    return p


def ask_peer(ns, host, port):
    """What a peer_echo listener says about us ('' when unreachable)."""
    r = ns.run("nc", "-w", "2", host, port, input="", check=False)
    return r.stdout.strip()


class Web:
    """python3 -m http.server on addr:port serving one file; its access log
    says which address each request came from."""

    def __init__(self, ns, tmp_path, addr, port):
        self.root = tmp_path / f"www-{ns.name}-{port}"
        self.root.mkdir()
        (self.root / "hello").write_text("hello from the dmz\n")
        self.log = tmp_path / f"www-{ns.name}-{port}.log"
        self.proc = ns.spawn(python3(), "-m", "http.server", "--bind", addr,
                             port, "--directory", self.root, log=self.log)
        ns.wait_listen(port, proc=self.proc)

    def peers(self, path):
        """Client addresses of the requests for path, from the log."""
        pat = re.compile(r'^(\S+) .*"GET ' + re.escape(path) + ' HTTP')
        return [m.group(1) for line in self.log.read_text().splitlines()
                if (m := pat.match(line))]


def curl(ns, url):
    r = ns.run("curl", "-sS", "--connect-timeout", "1", "-m", "3", url,
               check=False)
    return r.returncode, r.stdout


def ping(ns, host, wait=1):
    return ns.run("ping", "-n", "-c", "1", "-W", wait, host, check=False)


# --- traffic ------------------------------------------------------------------


def test_lan_to_wan_is_masqueraded(gw):
    host_fwd = open("/proc/sys/net/ipv4/ip_forward").read()
    assert gw.ns.sysctl("net.ipv4.ip_forward") == "0"
    out = gw.apply(gw.config("nat"))
    assert out.startswith("applied:"), out
    # ip_forwarding = true set the gateway's sysctl, and only the gateway's
    assert gw.ns.sysctl("net.ipv4.ip_forward") == "1"
    assert open("/proc/sys/net/ipv4/ip_forward").read() == host_fwd

    peer_echo(gw.t.wan, 9000)
    assert ask_peer(gw.t.lan, WAN_HOST, 9000) == WAN_GW

    masq = gw.rule("policy lan->wan masquerade")
    assert "masquerade" in masq["expr"][-1]
    assert masq["chain"] == "postrouting"


def test_wan_to_lan_is_dropped(gw):
    # The wan host is given a route to the LAN, as an attacker next door
    # would have; without moat the gateway forwards it.
    gw.t.wan.run("ip", "route", "add", "192.168.50.0/24", "via", WAN_GW)
    peer_echo(gw.t.lan, 9000)
    gw.ns.sysctl("net.ipv4.ip_forward", 1)
    assert tcp(gw.t.wan, LAN_HOST, 9000) == "open"

    gw.apply(gw.config("nat"))
    assert tcp(gw.t.wan, LAN_HOST, 9000) == "timeout"
    assert tcp(gw.t.lan, WAN_HOST, 22) == "refused"  # lan->wan still flows
    fwd = [o["chain"] for o in json.loads(gw.table_text())["nftables"]
           if "chain" in o and o["chain"]["name"] == "forward"]
    assert fwd[0]["policy"] == "drop"


def test_port_forward_reaches_dmz(gw, tmp_path):
    gw.apply(gw.config("nat"))
    web = Web(gw.t.dmz, tmp_path, DMZ_HOST, 80)

    rc, body = curl(gw.t.wan, f"http://{WAN_GW}:8080/hello")
    assert rc == 0 and body == "hello from the dmz\n"
    # not masqueraded: the server sees who asked
    assert poll(lambda: web.peers("/hello")) == [WAN_HOST]

    dnat = gw.rule("nat web")
    assert expr_has(dnat, "dnat") == {"family": "ip", "addr": DMZ_HOST,
                                      "port": 80}


def test_hairpin_from_lan(gw, tmp_path):
    gw.apply(gw.config("nat"))
    web = Web(gw.t.dmz, tmp_path, DMZ_HOST, 80)

    rc, body = curl(gw.t.lan, f"http://{WAN_GW}:8080/hello")
    assert rc == 0 and body == "hello from the dmz\n"
    # the hairpin rule masquerades, so the server answers the gateway
    assert poll(lambda: web.peers("/hello")) == [DMZ_GW]
    hairpin = {r["chain"]: r for r in gw.rules("nat web hairpin")}
    assert sorted(hairpin) == ["postrouting", "prerouting"]
    assert expr_has(hairpin["prerouting"], "dnat")["addr"] == DMZ_HOST
    assert "masquerade" in hairpin["postrouting"]["expr"][-1]


def test_reject_is_refused_and_drop_times_out(gw, tmp_path):
    gw.apply(gw.config("verdicts"))
    for port in (80, 81, 82):
        peer_echo(gw.t.wan, port)
    Web(gw.t.dmz, tmp_path, DMZ_HOST, 80)

    assert tcp(gw.t.lan, WAN_HOST, 80) == "open"
    assert tcp(gw.t.lan, WAN_HOST, 81) == "refused"
    assert tcp(gw.t.lan, WAN_HOST, 82) == "timeout"
    rc, _ = curl(gw.t.lan, f"http://{WAN_HOST}:81/")
    assert rc == 7  # curl: could not connect

    # a policy that rejects: TCP gets a reset, the rest an ICMP error
    rc, _ = curl(gw.t.lan, f"http://{DMZ_HOST}/hello")
    assert rc == 7
    r = ping(gw.t.lan, DMZ_HOST)
    assert r.returncode != 0
    assert f"From {LAN_GW}" in r.stdout and "Unreachable" in r.stdout, \
        r.stdout


def test_limit_throttles_new_flows(gw):
    """A rule limit meters what reaches the policy: new flows. Established
    traffic is accepted before any policy, and one ping process is one
    conntrack flow, so the flood is 30 pings of one echo each, all at once,
    each a flow of its own (its own ICMP id)."""
    gw.apply(gw.config("limit"))
    n = 30
    procs = [gw.t.lan.spawn("ping", "-n", "-c", "1", "-W", "1", DMZ_HOST)
             for _ in range(n)]
    for p in procs:
        p.wait(timeout=10)
    answered = sum(p.returncode == 0 for p in procs)

    assert 1 <= answered <= n // 3, f"{answered} of {n} pings answered"
    counter = expr_has(gw.rule("policy lan->dmz rule ping"), "counter")
    assert counter["packets"] == answered
    assert expr_has(gw.rule("policy lan->dmz rule ping"), "limit") == {
        "rate": 2, "burst": 2, "per": "second"}


def test_management_only_where_granted(gw):
    gw.apply(gw.config("management"))
    peer_echo(gw.ns, 22)
    peer_echo(gw.ns, 2222)

    assert tcp(gw.t.lan, LAN_GW, 22) == "open"
    assert ask_peer(gw.t.lan, LAN_GW, 22) == LAN_HOST
    assert tcp(gw.t.wan, WAN_GW, 22) == "timeout"
    assert tcp(gw.t.lan, LAN_GW, 2222) == "timeout"  # not granted
    assert ping(gw.t.lan, LAN_GW).returncode == 0
    assert ping(gw.t.wan, WAN_GW).returncode != 0

    assert gw.rule("zone lan management ssh")["chain"] == "input_lan"
    inp = [o["chain"] for o in json.loads(gw.table_text())["nftables"]
           if "chain" in o and o["chain"]["name"] == "input"]
    assert inp[0]["policy"] == "drop"


def test_source_zone_is_decided_before_destination(gw):
    """A guest narrowed by address on the lan's interface does not get the
    lan's policy to a destination narrowed by address: a packet's source
    zone is decided first (guest), then its destination (dmz_hosts), and
    guest->dmz_hosts has no policy."""
    peer_echo(gw.t.dmz, 9000)
    peer_echo(gw.t.wan, 9000)
    gw.apply(gw.config("narrowed"))
    assert tcp(gw.t.lan, DMZ_HOST, 9000) == "timeout"
    assert tcp(gw.t.lan, WAN_HOST, 9000) == "open"  # guest->wan
    # the same host as a lan host (the guest is someone else) gets through
    gw.apply(gw.config("narrowed", CONFIGS["narrowed"].replace(
        "192.168.50.2/32", "192.168.50.200/32")))
    assert tcp(gw.t.lan, DMZ_HOST, 9000) == "open"
    assert tcp(gw.t.lan, WAN_HOST, 9000) == "timeout"  # lan->wan: none


# Counts, in a table of the test's own at a later priority than moat's
# chains, what leaves the gateway for the wan host: by source (the lan
# host, forwarded; the gateway itself) and by mark. Postrouting at
# priority 10 runs before the masquerade (srcnat, 100).
MARK_PROBE = """
table inet probe {
	chain post {
		type filter hook postrouting priority 10; policy accept;
		ip saddr 192.168.50.2 tcp dport 8080 meta mark 0x40 counter comment "lan 8080 marked"
		ip saddr 203.0.113.1 tcp dport 8080 meta mark 0x40 counter comment "gw 8080 marked"
		tcp dport 9000 meta mark 0x40 counter comment "9000 marked"
		tcp dport 9000 meta mark 0 counter comment "9000 unmarked"
	}
}
"""

# In the dmz server: packets for the wan host that routing by mark sent
# there instead, by source.
STEERED_PROBE = """
table inet probe {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		ip saddr 192.168.50.2 ip daddr 203.0.113.2 tcp dport 8080 counter comment "lan steered"
		ip saddr 203.0.113.1 ip daddr 203.0.113.2 tcp dport 8080 counter comment "gw steered"
	}
}
"""


def counters(ns):
    """Packets counted by the rules of table inet probe, by comment."""
    objs = ns.nft_json("table", "inet", "probe")["nftables"]
    return {o["rule"]["comment"]: expr_has(o["rule"], "counter")["packets"]
            for o in objs if "rule" in o}


def test_marks_steer_policy_routing(gw):
    """mark_rule marks in prerouting (forwarded) and output (the gateway's
    own) before routing; only the matching port; and a fwmark rule then
    routes marked packets elsewhere: here through the dmz server, as if
    it were a second uplink."""
    gw.apply(gw.config("marks"))
    gw.ns.run("nft", "-f", "-", input=MARK_PROBE)
    for port in (8080, 9000):
        peer_echo(gw.t.wan, port)
    assert ask_peer(gw.t.lan, WAN_HOST, 8080) == WAN_GW
    assert ask_peer(gw.t.lan, WAN_HOST, 9000) == WAN_GW
    assert ask_peer(gw.ns, WAN_HOST, 8080) == WAN_GW
    n = counters(gw.ns)
    assert n["lan 8080 marked"] > 0 and n["gw 8080 marked"] > 0, n
    assert n["9000 marked"] == 0 and n["9000 unmarked"] > 0, n

    # policy routing by the mark (what policy_route installs): to the wan
    # host through the dmz server
    gw.ns.run("ip", "route", "add", WAN_HOST, "via", DMZ_HOST, "dev",
              "eth2", "table", "200")
    gw.ns.run("ip", "rule", "add", "fwmark", "0x40", "table", "200")
    gw.t.dmz.run("nft", "-f", "-", input=STEERED_PROBE)
    assert tcp(gw.t.lan, WAN_HOST, 8080) == "timeout"
    assert tcp(gw.ns, WAN_HOST, 8080) == "timeout"
    assert tcp(gw.t.lan, WAN_HOST, 9000) == "open"
    n = counters(gw.t.dmz)
    assert n["lan steered"] > 0 and n["gw steered"] > 0, n


def set_add(gw, name, addr):
    r = gw.moat("set", "add", name, addr)
    assert r.returncode == 0, r.stderr


def set_del(gw, name, addr):
    r = gw.moat("set", "del", name, addr)
    assert r.returncode == 0, r.stderr


def set_elements(gw, name):
    objs = gw.ns.nft_json("set", "inet", "moat", name)["nftables"]
    return [o["set"].get("elem", []) for o in objs if "set" in o][0]


def test_set_element_blocks_at_once(gw):
    cfg = gw.config("blocklist")
    gw.apply(cfg)
    peer_echo(gw.t.wan, 9000)
    assert tcp(gw.t.lan, WAN_HOST, 9000) == "open"

    set_add(gw, "blocked", WAN_HOST)
    assert set_elements(gw, "blocked") == [WAN_HOST]
    assert tcp(gw.t.lan, WAN_HOST, 9000) == "timeout"
    # elements are data: the table is still moat's, an apply keeps them
    assert gw.status(cfg)["status"] == "ok"
    assert gw.apply(cfg).startswith("unchanged:")
    assert set_elements(gw, "blocked") == [WAN_HOST]

    set_del(gw, "blocked", WAN_HOST)
    assert set_elements(gw, "blocked") == []
    assert tcp(gw.t.lan, WAN_HOST, 9000) == "open"


# --- apply and status ---------------------------------------------------------


def entries_line(text, ipset):
    """1-based line of `entries` inside ipset "NAME" of a config."""
    lines = text.splitlines()
    start = lines.index(f'ipset "{ipset}" {{')
    return start + 1 + next(i for i, ln in enumerate(lines[start:])
                            if ln.strip().startswith("entries"))


def test_refused_config_changes_nothing(gw):
    good = gw.config("blocklist")
    gw.apply(good)
    before = gw.table_text()
    bad = gw.config("oversized", OVERSIZED)
    line = entries_line(bad.read_text(), "tiny")

    # moat finds nothing wrong; the kernel does (checked in a namespace of
    # its own so that nothing else is in the way)
    assert gw.moat("check", "-c", bad).returncode == 0
    script = gw.dir / "oversized.nft"
    script.write_text(gw.moat("compile", "-c", bad).stdout)
    assert subprocess.run(["unshare", "-n", "nft", "-c", "-f", script],
                          capture_output=True).returncode != 0

    r = gw.moat("apply", "-c", bad)
    assert r.returncode == 1
    assert f"{bad}:{line}:" in r.stderr, r.stderr
    assert "nothing was changed" in r.stderr
    assert gw.table_text() == before

    s = gw.status(bad)
    assert s["status"] == "degraded"
    assert "the last apply failed" in s["problems"]
    assert f"{bad}:{line}:" in s["last_error"]["message"]
    assert s["installed_hash"] != s["config_hash"]

    # a good apply clears the error
    gw.apply(good)
    s = gw.status(good)
    assert s["status"] == "ok" and s["last_error"] is None, s


def state_genid(gw):
    text = (gw.state / "fw.state").read_text()
    return re.search(r"^genid=(\d+)$", text, re.M).group(1)


def test_second_apply_is_a_no_op(gw):
    cfg = gw.config("counted")
    assert gw.apply(cfg).startswith("applied:")
    peer_echo(gw.t.wan, 9000)
    assert ask_peer(gw.t.lan, WAN_HOST, 9000) == WAN_GW
    text, objs, genid = gw.ns.nft_text(), gw.table_text(), state_genid(gw)
    counted = expr_has(gw.rule("policy lan->wan rule all"), "counter")
    assert counted["packets"] > 0

    out = gw.apply(cfg)
    assert out.startswith("unchanged:"), out
    # same handles, same counters, same generation
    assert gw.ns.nft_text() == text
    assert gw.table_text() == objs
    assert state_genid(gw) == genid

    # the comparison would have seen a reload: --force does one
    assert gw.apply(cfg, "--force").startswith("applied:")
    assert gw.table_text() != objs
    assert expr_has(gw.rule("policy lan->wan rule all"),
                    "counter")["packets"] == 0


OTHER = """\
table ip other {
	set keep {
		type ipv4_addr
		elements = { 192.0.2.7 }
	}
	chain c {
		type filter hook forward priority 10; policy accept;
		ip saddr @keep counter drop
	}
}
table inet filter {
	chain input {
		type filter hook input priority 10; policy accept;
	}
}
"""


def test_other_tables_survive_every_apply(gw):
    gw.ns.run("nft", "-f", "-", input=OTHER)

    def others():
        return [gw.ns.run("nft", *a, "list", "table", fam, name).stdout
                for a in ((), ("-j",), ("-a",))
                for fam, name in (("ip", "other"), ("inet", "filter"))]

    before = others()
    nat, mgmt = gw.config("nat"), gw.config("management")
    gw.apply(nat)
    assert others() == before
    gw.apply(mgmt)
    assert others() == before
    assert gw.moat("apply", "-c", gw.config("oversized",
                                            OVERSIZED)).returncode == 1
    assert others() == before
    gw.apply(mgmt, "--dry-run")
    gw.apply(nat)
    assert others() == before
    assert gw.status(nat)["status"] == "ok"


def test_status_degraded_by_hand_edit_until_apply(gw):
    cfg = gw.config("nat")
    gw.apply(cfg)
    s = gw.status(cfg)
    assert s["status"] == "ok" and s["problems"] == []
    assert s["table"]["present"] and s["installed_hash"] == s["config_hash"]
    nrules = s["table"]["rules"]
    assert nrules == len(gw.rules())

    gw.ns.run("nft", "add", "rule", "inet", "moat", "input", "tcp", "dport",
              "5555", "accept", "comment", "by-hand")
    s = gw.status(cfg)
    assert s["status"] == "degraded"
    assert "table inet moat was changed outside moat" in s["problems"]
    assert s["table"]["rules"] == nrules + 1

    assert gw.apply(cfg).startswith("applied:")
    assert gw.rules("by-hand") == []
    s = gw.status(cfg)
    assert s["status"] == "ok" and s["table"]["rules"] == nrules


def test_status_sees_a_rule_replaced_by_hand(gw):
    """Same number of rules, one of them no longer moat's: a drop turned
    into an accept must not pass for 'ok' nor survive the next apply."""
    cfg = gw.config("blocklist")
    gw.apply(cfg)
    drop = gw.rule("policy lan->wan rule blocked")
    gw.ns.run("nft", "replace", "rule", "inet", "moat", drop["chain"],
              "handle", drop["handle"], "accept", "comment", "by-hand")

    assert gw.status(cfg)["status"] == "degraded"
    assert gw.apply(cfg).startswith("applied:")
    assert gw.rules("by-hand") == []


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_compile_loads_in_nft(name, tmp_path, moat_bin):
    cfg = tmp_path / f"{name}.hcl"
    cfg.write_text(HEAD.format(state=tmp_path / "state") + CONFIGS[name])
    r = subprocess.run([moat_bin, "compile", "-c", cfg], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    script = tmp_path / f"{name}.nft"
    script.write_text(r.stdout)
    r = subprocess.run(["unshare", "-n", "nft", "-c", "-f", script],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_dry_run_changes_nothing(gw):
    cfg = gw.config("nat")
    assert gw.ns.nft_text() == ""
    out = gw.apply(cfg, "--dry-run")
    assert out.startswith("dry run:"), out
    assert not gw.has_moat()
    assert gw.ns.nft_text() == ""
    assert gw.ns.sysctl("net.ipv4.ip_forward") == "0"
    assert not (gw.state / "fw.state").exists()

    # the kernel is asked all the same: it refuses what it would refuse
    bad = gw.config("oversized", OVERSIZED)
    assert gw.moat("apply", "--dry-run", "-c", bad).returncode == 1
    assert not gw.has_moat()

    # and a table in place stays as it is
    gw.apply(cfg)
    before = gw.table_text()
    assert gw.apply(gw.config("management"),
                    "--dry-run").startswith("dry run:")
    assert gw.table_text() == before
