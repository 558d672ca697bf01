"""moat set add|del|list against the kernel, checked with the real tools:
sets loaded with `nft -f`, read back with `nft -j list set`, and real
pings through the rule that uses them.

    +--------------------------+ veth0          veth0 +--------------------+
    | moat-set-PID-N  ("gw")   |------------------------| moat-set-PID-N-peer |
    | 198.51.100.1/24          |                        | 198.51.100.2/24    |
    | 2001:db8:5e7::1/64       |                        | 2001:db8:5e7::2/64 |
    | table inet moat:         |                        |  ping ->           |
    |   input: saddr @sets drop|                        |                    |
    +--------------------------+                        +--------------------+

Every test makes its own two namespaces (`ip netns add`, the veth pair is
created inside one and its peer moved straight into the other) and deletes
them in teardown, even when it fails. Nothing runs in the host namespace
but `ip netns add/del`; its firewall is never touched.

Run as root: MOAT=build/moat python3 -m pytest tests/system/test_set.py
"""
import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MOAT = os.environ.get("MOAT") or str(REPO / "build" / "moat")

GW4, PEER4 = "198.51.100.1", "198.51.100.2"
GW6, PEER6 = "2001:db8:5e7::1", "2001:db8:5e7::2"

RULESET = """
table inet moat {
  set blocked  { type ipv4_addr; flags interval; }
  set hosts    { type ipv4_addr; }
  set blocked6 { type ipv6_addr; flags interval; }
  set hosts6   { type ipv6_addr; }
  set ports    { type inet_service; flags interval; }
  set macs     { type ether_addr; }
  set temp     { type ipv4_addr; flags timeout; timeout 1h; }
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr @blocked drop
    ip saddr @hosts drop
    ip6 saddr @blocked6 drop
    ip6 saddr @hosts6 drop
  }
}
"""

_seq = itertools.count()


class NS:
    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "add", name], check=True)

    def run(self, *argv, check=True, input=None):
        r = subprocess.run(["ip", "netns", "exec", self.name, *argv],
                           capture_output=True, text=True, input=input,
                           timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"[{self.name}] {' '.join(argv)} exited "
                                 f"{r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class Pair:
    """The gateway namespace (moat's table) and its peer."""

    def __init__(self):
        base = f"moat-set-{os.getpid()}-{next(_seq)}"
        self.made = []
        self.gw = self._ns(base)
        self.peer = self._ns(base + "-peer")
        for ns in (self.gw, self.peer):
            ns.run("ip", "link", "set", "lo", "up")
        self.gw.run("ip", "link", "add", "veth0", "type", "veth", "peer",
                    "name", "veth0", "netns", self.peer.name)
        for ns, a4, a6 in ((self.gw, GW4, GW6), (self.peer, PEER4, PEER6)):
            ns.run("ip", "addr", "add", a4 + "/24", "dev", "veth0")
            ns.run("ip", "addr", "add", a6 + "/64", "dev", "veth0",
                   "nodad")
            ns.run("ip", "link", "set", "veth0", "up")

    def _ns(self, name):
        ns = NS(name)
        self.made.append(ns)
        return ns

    def delete(self):
        for ns in self.made:
            ns.delete()

    def nft_load(self, text):
        self.gw.run("nft", "-f", "-", input=text)

    def moat(self, *args, input=None):
        """Runs moat in the gateway namespace; returns the result."""
        return self.gw.run(MOAT, *args, check=False, input=input)

    def moat_ok(self, *args, input=None):
        r = self.moat(*args, input=input)
        assert r.returncode == 0, f"moat {' '.join(args)}: {r.stderr}"
        return r

    def nft_elems(self, name):
        """The elements of a set as `nft -j` lists them, written the way
        moat prints them."""
        r = self.gw.run("nft", "-j", "list", "set", "inet", "moat", name)
        for obj in json.loads(r.stdout)["nftables"]:
            if "set" in obj:
                return [_elem_text(e) for e in obj["set"].get("elem", [])]
        raise AssertionError(f"no set {name} in nft's answer")

    def nft_set_json(self, name):
        r = self.gw.run("nft", "-j", "list", "set", "inet", "moat", name)
        return [o["set"] for o in json.loads(r.stdout)["nftables"]
                if "set" in o][0]

    def ping(self, addr):
        r = self.peer.run("ping", "-n", "-c", "1", "-W", "1", addr,
                          check=False)
        return r.returncode == 0


def _elem_text(e):
    if isinstance(e, dict) and "elem" in e:
        e = e["elem"]["val"]
    if isinstance(e, dict) and "prefix" in e:
        return f"{e['prefix']['addr']}/{e['prefix']['len']}"
    if isinstance(e, dict) and "range" in e:
        return f"{e['range'][0]}-{e['range'][1]}"
    return str(e)


@pytest.fixture
def pair():
    if os.geteuid() != 0:
        pytest.fail("the set system tests need root (ip netns, nft)")
    if not os.access(MOAT, os.X_OK):
        pytest.fail(f"moat binary not found: {MOAT} (set MOAT=...)")
    p = None
    try:
        p = Pair()
        p.nft_load(RULESET)
        yield p
    finally:
        if p is not None:
            p.delete()
        else:
            # Pair() failed half-way: remove whatever it made by name.
            for line in subprocess.run(["ip", "netns", "list"],
                                       capture_output=True,
                                       text=True).stdout.splitlines():
                name = line.split()[0] if line.split() else ""
                if name.startswith(f"moat-set-{os.getpid()}-"):
                    subprocess.run(["ip", "netns", "del", name])


# --- traffic ----------------------------------------------------------------


def test_hash_set_blocks_and_unblocks_at_once(pair):
    assert pair.ping(GW4)
    pair.moat_ok("set", "add", "hosts", PEER4)
    assert pair.nft_elems("hosts") == [PEER4]
    assert not pair.ping(GW4), "the very next ping must be dropped"
    assert pair.moat_ok("set", "list", "hosts").stdout == PEER4 + "\n"
    pair.moat_ok("set", "del", "hosts", PEER4)
    assert pair.nft_elems("hosts") == []
    assert pair.ping(GW4)


def test_interval_set_blocks_a_prefix(pair):
    assert pair.ping(GW4)
    pair.moat_ok("set", "add", "blocked", "198.51.100.0/24")
    assert pair.nft_elems("blocked") == ["198.51.100.0/24"]
    assert not pair.ping(GW4)
    pair.moat_ok("set", "del", "blocked", "198.51.100.0/24")
    assert pair.nft_elems("blocked") == []
    assert pair.ping(GW4)
    # a range ending right at the peer, then one starting right after it
    pair.moat_ok("set", "add", "blocked", "198.51.100.3-198.51.100.9")
    assert pair.ping(GW4)
    pair.moat_ok("set", "add", "blocked", "198.51.100.0-198.51.100.2")
    assert not pair.ping(GW4)


def test_ipv6_hash_and_interval(pair):
    assert pair.ping(GW6)
    pair.moat_ok("set", "add", "hosts6", PEER6)
    assert pair.nft_elems("hosts6") == [PEER6]
    assert not pair.ping(GW6)
    pair.moat_ok("set", "del", "hosts6", PEER6)
    assert pair.ping(GW6)
    pair.moat_ok("set", "add", "blocked6", "2001:db8:5e7::/112",
                 "2001:db8:5e7::1:0/112")
    assert pair.nft_elems("blocked6") == ["2001:db8:5e7::/111"]
    assert not pair.ping(GW6)
    pair.moat_ok("set", "del", "blocked6", "2001:db8:5e7::/111")
    assert pair.ping(GW6)


# --- what the kernel holds afterwards, read by nft ----------------------------


def test_merges_within_one_command(pair):
    pair.moat_ok("set", "add", "blocked", "10.0.0.128/25", "10.0.0.0/25",
                 "192.0.2.1", "192.0.2.1", "192.0.2.2")
    assert pair.nft_elems("blocked") == ["10.0.0.0/24",
                                         "192.0.2.1-192.0.2.2"]
    assert pair.moat_ok("set", "list", "blocked").stdout == \
        "10.0.0.0/24\n192.0.2.1-192.0.2.2\n"


def test_merges_with_elements_already_there(pair):
    pair.nft_load("add element inet moat blocked "
                  "{ 10.0.0.0/25, 10.0.1.0/24, 192.0.2.1, 203.0.113.0/24 }")
    # overlaps the first two: they are replaced by the union
    pair.moat_ok("set", "add", "blocked", "10.0.0.64-10.0.1.5")
    assert pair.nft_elems("blocked") == ["10.0.0.0/23", "192.0.2.1",
                                         "203.0.113.0/24"]
    # wholly inside: nothing changes, and that is not an error
    pair.moat_ok("set", "add", "blocked", "10.0.1.7", "203.0.113.0/25")
    assert pair.nft_elems("blocked") == ["10.0.0.0/23", "192.0.2.1",
                                         "203.0.113.0/24"]
    # one new range covering two existing ones plus a new neighbour
    pair.moat_ok("set", "add", "blocked", "192.0.2.0/24", "198.18.0.1")
    assert pair.nft_elems("blocked") == ["10.0.0.0/23", "192.0.2.0/24",
                                         "198.18.0.1", "203.0.113.0/24"]
    # only adjacent: kept beside it, each deletable as it was added
    pair.moat_ok("set", "add", "blocked", "10.0.2.0/24")
    assert pair.nft_elems("blocked") == ["10.0.0.0/23", "10.0.2.0/24",
                                         "192.0.2.0/24", "198.18.0.1",
                                         "203.0.113.0/24"]
    pair.moat_ok("set", "del", "blocked", "10.0.2.0/24")
    assert "10.0.2.0/24" not in pair.nft_elems("blocked")


def test_top_of_the_key_space(pair):
    pair.moat_ok("set", "add", "blocked", "255.255.255.255",
                 "255.255.255.0/25", "255.255.255.128/25")
    assert pair.nft_elems("blocked") == ["255.255.255.0/24"]
    pair.moat_ok("set", "add", "ports", "65535", "65000-65534", "0-1")
    assert pair.nft_elems("ports") == ["0-1", "65000-65535"]
    assert pair.moat_ok("set", "list", "ports").stdout == "0-1\n65000-65535\n"
    pair.moat_ok("set", "del", "blocked", "255.255.255.0/24")
    pair.moat_ok("set", "del", "ports", "65000-65535", "0-1")
    assert pair.nft_elems("blocked") == []
    assert pair.nft_elems("ports") == []


def test_ports_and_macs(pair):
    pair.moat_ok("set", "add", "ports", "8000-8100", "22", "443")
    assert pair.nft_elems("ports") == ["22", "443", "8000-8100"]
    pair.moat_ok("set", "add", "macs", "AA:BB:CC:DD:EE:FF", "0:1:2:3:4:5")
    assert sorted(pair.nft_elems("macs")) == ["00:01:02:03:04:05",
                                              "aa:bb:cc:dd:ee:ff"]
    pair.moat_ok("set", "del", "macs", "aa:bb:cc:dd:ee:ff")
    assert pair.nft_elems("macs") == ["00:01:02:03:04:05"]


def test_timeout(pair):
    pair.moat_ok("set", "add", "temp", "192.0.2.9", "--timeout", "10m")
    pair.moat_ok("set", "add", "temp", "192.0.2.10")
    elems = pair.nft_set_json("temp")["elem"]
    by_val = {e["elem"]["val"]: e["elem"] for e in elems}
    assert by_val["192.0.2.9"]["timeout"] == 600
    assert 0 < by_val["192.0.2.9"]["expires"] <= 600
    assert "timeout" not in by_val["192.0.2.10"]  # the set's 1h applies
    out = json.loads(pair.moat_ok("set", "list", "temp", "--json").stdout)
    assert out["flags"] == ["timeout"] and out["timeout_ms"] == 3600000
    mine = {e["elem"]: e for e in out["elements"]}
    assert mine["192.0.2.9"]["timeout_ms"] == 600000
    assert 0 < mine["192.0.2.9"]["expires_ms"] <= 600000


def test_list_matches_nft(pair):
    pair.nft_load("add element inet moat blocked { 10.0.0.0/8, "
                  "192.0.2.5-192.0.2.9, 255.255.255.0/24 }")
    pair.moat_ok("set", "add", "blocked", "198.51.100.7", "0.0.0.0/8")
    lines = pair.moat_ok("set", "list", "blocked").stdout.splitlines()
    assert lines == pair.nft_elems("blocked")
    assert lines == ["0.0.0.0/8", "10.0.0.0/8", "192.0.2.5-192.0.2.9",
                     "198.51.100.7", "255.255.255.0/24"]
    out = json.loads(pair.moat_ok("set", "list", "blocked", "--json").stdout)
    assert out == {"table": "inet moat", "set": "blocked",
                   "type": "ipv4_addr", "flags": ["interval"],
                   "elements": lines}


def test_nft_keeps_working_on_what_moat_wrote(pair):
    # moat fills an empty interval set without nft's "null" element
    pair.moat_ok("set", "add", "blocked", "10.0.0.0/24", "192.0.2.0/24")
    pair.gw.run("nft", "add", "element", "inet", "moat", "blocked",
                "{ 172.16.0.0/12 }")
    pair.gw.run("nft", "delete", "element", "inet", "moat", "blocked",
                "{ 10.0.0.0/24 }")
    assert pair.nft_elems("blocked") == ["172.16.0.0/12", "192.0.2.0/24"]
    r = pair.gw.run("nft", "get", "element", "inet", "moat", "blocked",
                    "{ 192.0.2.77 }")
    assert "192.0.2.0/24" in r.stdout
    assert pair.moat_ok("set", "list", "blocked").stdout == \
        "172.16.0.0/12\n192.0.2.0/24\n"


def test_bulk_from_stdin(pair):
    hosts = "".join(f"10.{i // 250}.{i % 250}.1\n" for i in range(5000))
    pair.moat_ok("set", "add", "hosts", "-", input="# bulk\n\n" + hosts)
    assert len(pair.nft_elems("hosts")) == 5000
    # 4096 /24s that merge into one /12
    nets = "".join(f"172.{16 + i // 256}.{i % 256}.0/24\n"
                   for i in range(4096))
    pair.moat_ok("set", "add", "blocked", "-", input=nets)
    assert pair.nft_elems("blocked") == ["172.16.0.0/12"]
    pair.moat_ok("set", "del", "hosts", "-", input=hosts)
    assert pair.nft_elems("hosts") == []


# --- errors leave the set as it was -------------------------------------------


def _unchanged(pair, args, code, message, input=None):
    before = pair.gw.run("nft", "-j", "list", "table", "inet", "moat").stdout
    r = pair.moat(*args, input=input)
    assert r.returncode == code, (args, r.stdout, r.stderr)
    assert message in r.stderr, (args, r.stderr)
    after = pair.gw.run("nft", "-j", "list", "table", "inet", "moat").stdout
    assert after == before, args


def test_errors_leave_the_sets_unchanged(pair):
    pair.nft_load("add element inet moat blocked { 10.0.0.0/8, 192.0.2.1 }\n"
                  "add element inet moat hosts { 192.0.2.1, 192.0.2.2 }")
    _unchanged(pair, ["set", "add", "nope", "192.0.2.3"], 1,
               'set "nope" does not exist in table inet moat '
               '(is the config applied?)')
    _unchanged(pair, ["set", "add", "hosts", "192.0.2.3", "10.0.0.300"], 1,
               "10.0.0.300: not an IPv4 address")
    _unchanged(pair, ["set", "add", "hosts", "10.0.0.0/8"], 1,
               '10.0.0.0/8 needs an interval set; set "hosts" has no '
               'flags interval')
    _unchanged(pair, ["set", "add", "blocked", "10.0.0.1/8"], 1,
               "host bits are set; did you mean 10.0.0.0/8?")
    _unchanged(pair, ["set", "add", "hosts", "192.0.2.3", "-"], 1,
               "stdin:2: nope: not an IPv4 address",
               input="192.0.2.4\nnope\n")
    # a delete of several is all or nothing
    _unchanged(pair, ["set", "del", "hosts", "192.0.2.1", "192.0.2.9"], 1,
               'element 192.0.2.9 is not in set "hosts"')
    _unchanged(pair, ["set", "del", "blocked", "192.0.2.1", "10.0.0.5"], 1,
               '10.0.0.5 is not an element of set "blocked"; it overlaps '
               '10.0.0.0/8')
    _unchanged(pair, ["set", "del", "blocked", "10.0.0.0/7"], 1,
               "10.0.0.0/7 is not an element")
    _unchanged(pair, ["set", "del", "blocked", "10.0.0.0/8-"], 1,
               "10.0.0.0/8-: the prefix length must be 0-32")
    _unchanged(pair, ["set", "add", "temp", "192.0.2.1", "--timeout", "1x"],
               2, "not a duration")
    _unchanged(pair, ["set", "add", "hosts", "192.0.2.7", "--timeout", "1m"],
               1, 'set "hosts" has no flags timeout')
    _unchanged(pair, ["set", "add", "hosts"], 2, "which elements?")
    _unchanged(pair, ["set", "frob", "hosts"], 2, "unknown subcommand")
    assert pair.nft_elems("hosts") == ["192.0.2.1", "192.0.2.2"]


def test_a_delete_spanning_two_elements_is_refused(pair):
    pair.nft_load("add element inet moat blocked "
                  "{ 10.0.0.10-10.0.0.19, 10.0.0.30-10.0.0.39 }")
    _unchanged(pair, ["set", "del", "blocked", "10.0.0.10-10.0.0.39"], 1,
               "it overlaps 10.0.0.10-10.0.0.19, 10.0.0.30-10.0.0.39")
    pair.moat_ok("set", "del", "blocked", "10.0.0.30-10.0.0.39")
    assert pair.nft_elems("blocked") == ["10.0.0.10-10.0.0.19"]


def test_help(pair):
    r = pair.moat("help", "set")
    assert r.returncode == 0 and "moat set add NAME ELEMENT" in r.stdout
