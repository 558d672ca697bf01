"""The router, end to end: moat apply configures a gateway namespace's
links, addresses, routes and policy rules over rtnetlink, and the kernel
is read back with the tool users trust (`ip -j`).

    +-----------+ eth0          eth0 +-----------+ eth1          eth0 +---------+
    | upstream  |--------------------|    gw     |--------------------|   lan   |
    | 192.0.2.1 |        192.0.2.2   | moat apply|  10.0.0.1          |10.0.0.2 |
    | 10.9.0.1  |  (moat configures  +-----------+  (moat configures  +---------+
    |  on lo    |   this side)                       this side)
    +-----------+

The upstream and lan sides are set up with ip; gw's side only by moat.
Each test gets fresh namespaces and its own state_dir.
"""
import json

import pytest

UP, GW_UP = "192.0.2.1", "192.0.2.2"
LAN_GW, LAN_HOST = "10.0.0.1", "10.0.0.2"

BASE = """\
state_dir     = "{state}"
ip_forwarding = true

policy "eth0" "self" {
  action = "accept"
}
policy "eth1" "self" {
  action = "accept"
}
policy "eth1" "eth0" {
  action = "accept"
}

interface "eth0" {
  ipv4    = ["192.0.2.2/24"]
  ipv6    = ["2001:db8::2/64"]
  gateway = "192.0.2.1"
  mtu     = 1400
}
interface "eth1" {
  ipv4 = ["10.0.0.1/24"]
}
"""

ROUTES = """\
route "office" {
  destination = "10.9.0.0/16"
  gateway     = "192.0.2.1"
  metric      = 10
}
routing_table "uplink" {
  id = 100
  route "default" {
    destination = "0.0.0.0/0"
    gateway     = "192.0.2.1"
  }
}
policy_route "voip" {
  mark      = "0x40"
  mark_mask = "0xff"
  table     = 100
  priority  = 100
}
policy_route "lan" {
  from     = "10.0.0.0/24"
  iif      = "eth1"
  table    = 100
  priority = 200
}
"""


@pytest.fixture
def net(netns_factory, tmp_path, moat_bin):
    """gw with eth0 to upstream and eth1 to lan, both without addresses on
    gw's side; a helper to apply a config there."""
    t = netns_factory()
    for role in ("gw", "up", "lan"):
        t.add(role)
    t.gw.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name",
             "eth0", "netns", t.up.name)
    t.gw.run("ip", "link", "add", "eth1", "type", "veth", "peer", "name",
             "eth0", "netns", t.lan.name)
    t.up.run("ip", "addr", "add", f"{UP}/24", "dev", "eth0")
    t.up.run("ip", "addr", "add", "10.9.0.1/32", "dev", "lo")
    t.up.run("ip", "link", "set", "eth0", "up")
    t.up.run("ip", "route", "add", "10.0.0.0/24", "via", GW_UP)
    t.lan.run("ip", "addr", "add", f"{LAN_HOST}/24", "dev", "eth0")
    t.lan.run("ip", "link", "set", "eth0", "up")
    t.lan.run("ip", "route", "add", "default", "via", LAN_GW)
    state = tmp_path / "state"

    def apply(body, *args, check=True):
        cfg = tmp_path / "moat.hcl"
        cfg.write_text(body.replace("{state}", str(state)))
        r = t.gw.run(moat_bin, "apply", "-c", cfg, *args, check=False)
        if check and r.returncode != 0:
            raise AssertionError(f"moat apply exited {r.returncode}\n"
                                 f"{r.stdout}{r.stderr}")
        return r

    t.apply = apply
    t.state = state
    t.cfg = tmp_path / "moat.hcl"
    return t


def ipj(ns, *argv):
    return json.loads(ns.run("ip", "-j", *argv).stdout or "[]")


def addrs(ns, dev):
    return sorted(f"{a['local']}/{a['prefixlen']}"
                  for link in ipj(ns, "addr", "show", "dev", dev)
                  for a in link["addr_info"] if a.get("scope") != "link")


def routes(ns, *sel):
    out = []
    for fam in ("-4", "-6"):
        out += ipj(ns, fam, "route", "show", "table", "all", "proto", "77",
                   *sel)
    return out


def route_keys(ns):
    return sorted((r["dst"], r.get("gateway", ""), r.get("dev", ""),
                   str(r.get("table", "main")), r.get("metric", 0))
                  for r in routes(ns))


def rules(ns):
    out = []
    for fam in ("-4", "-6"):
        out += [dict(r, family=fam) for r in ipj(ns, fam, "rule", "show")
                if r.get("protocol") == "77"]
    return out


def snapshot(ns):
    """Everything moat could have changed, as ip reports it, without
    what time changes by itself (address lifetimes, DAD flags) and without
    the IPv6 link-local addresses and their routes, which the kernel adds
    when it sees carrier, at a moment of its own choosing."""
    addrs_all = sorted((link["ifname"], a["local"], a["prefixlen"])
                       for link in ipj(ns, "addr", "show")
                       for a in link["addr_info"]
                       if not a["local"].startswith("fe80:"))
    rts = sorted(json.dumps({k: r.get(k) for k in
                             ("dst", "gateway", "dev", "table", "metric",
                              "protocol", "scope", "type")}, sort_keys=True)
                 for fam in ("-4", "-6")
                 for r in ipj(ns, fam, "route", "show", "table", "all")
                 if not r["dst"].startswith("fe80:"))
    rls = sorted(json.dumps(r, sort_keys=True)
                 for fam in ("-4", "-6") for r in ipj(ns, fam, "rule", "show"))
    return (ipj(ns, "-d", "link", "show"), addrs_all, rts, rls)


def strip_stats(links):
    """What a link is, not what it has seen."""
    return [(k["ifname"], k["mtu"], sorted(k["flags"]),
             k.get("linkinfo", {}).get("info_kind"),
             k.get("linkinfo", {}).get("info_data")) for k in links]


def test_addresses_mtu_and_state(net):
    net.apply(BASE)
    assert addrs(net.gw, "eth0") == ["192.0.2.2/24", "2001:db8::2/64"]
    assert addrs(net.gw, "eth1") == ["10.0.0.1/24"]
    eth0 = ipj(net.gw, "link", "show", "dev", "eth0")[0]
    assert eth0["mtu"] == 1400
    assert "UP" in eth0["flags"]
    assert "UP" in ipj(net.gw, "link", "show", "dev", "eth1")[0]["flags"]
    # the addresses work: real traffic both ways
    net.lan.run("ping", "-c1", "-W2", LAN_GW)
    net.up.run("ping", "-c1", "-W2", GW_UP)


def test_routes_main_and_custom_table(net):
    net.apply(BASE + ROUTES)
    keys = route_keys(net.gw)
    assert ("default", UP, "eth0", "main", 0) in keys
    assert ("10.9.0.0/16", UP, "", "main", 10) in keys or \
        ("10.9.0.0/16", UP, "eth0", "main", 10) in keys
    assert ("default", UP, "", "100", 0) in keys or \
        ("default", UP, "eth0", "100", 0) in keys
    # the route is real: the upstream's 10.9.0.1 answers
    net.gw.run("ping", "-c1", "-W2", "10.9.0.1")


def test_rules_with_fwmark_and_mask(net):
    net.apply(BASE + ROUTES)
    got = rules(net.gw)
    voip = [r for r in got if r["priority"] == 100]
    assert {r["family"] for r in voip} == {"-4", "-6"}
    for r in voip:
        assert r["fwmark"] == "0x40" and r["fwmask"] == "0xff"
        assert r["table"] == "100"
    lan = [r for r in got if r["priority"] == 200]
    assert len(lan) == 1
    assert lan[0]["src"] == "10.0.0.0" and lan[0]["srclen"] == 24
    assert lan[0]["iif"] == "eth1" and lan[0]["table"] == "100"
    # policy routing works: the lan host's traffic goes through table 100
    net.lan.run("ping", "-c1", "-W2", "10.9.0.1")


def test_second_apply_changes_nothing(net):
    net.apply(BASE + ROUTES)
    before = snapshot(net.gw)
    r = net.apply(BASE + ROUTES)
    assert "network: unchanged" in r.stdout
    after = snapshot(net.gw)
    assert strip_stats(before[0]) == strip_stats(after[0])
    assert before[1:] == after[1:]


def test_route_deleted_by_hand_comes_back(net):
    net.apply(BASE + ROUTES)
    net.gw.run("ip", "route", "del", "10.9.0.0/16", "metric", "10")
    net.gw.run("ip", "rule", "del", "priority", "200")
    r = net.apply(BASE + ROUTES)
    assert "network: applied: +1 route, +1 rule" in r.stdout
    assert any(k[0] == "10.9.0.0/16" for k in route_keys(net.gw))
    assert [x for x in rules(net.gw) if x["priority"] == 200]


def test_removed_from_config_leaves_the_kernel(net):
    net.apply(BASE + ROUTES)
    smaller = BASE.replace('  ipv6    = ["2001:db8::2/64"]\n', "")
    net.apply(smaller)
    assert not any(k[0] == "10.9.0.0/16" for k in route_keys(net.gw))
    assert not any(k[3] == "100" for k in route_keys(net.gw))
    assert rules(net.gw) == []
    assert addrs(net.gw, "eth0") == ["192.0.2.2/24"]


def test_what_moat_does_not_own_survives(net):
    # a route and an address of someone else, before and after moat
    net.gw.run("ip", "link", "set", "eth0", "up")
    net.gw.run("ip", "addr", "add", "192.0.2.77/24", "dev", "eth0")
    net.gw.run("ip", "route", "add", "10.77.0.0/16", "via", UP, "proto",
               "static")
    net.gw.run("ip", "rule", "add", "priority", "300", "fwmark", "7",
               "table", "100")
    net.apply(BASE + ROUTES)
    net.apply(BASE)
    assert "192.0.2.77/24" in addrs(net.gw, "eth0")
    got = ipj(net.gw, "route", "show", "10.77.0.0/16")
    assert got and got[0]["protocol"] == "static"
    assert [r for r in ipj(net.gw, "rule", "show") if r["priority"] == 300]
    # an address the config names but moat did not add stays when the
    # config drops it: it was never moat's
    net.apply(BASE.replace('"192.0.2.2/24"', '"192.0.2.2/24", '
                           '"192.0.2.77/24"'))
    net.apply(BASE)
    assert "192.0.2.77/24" in addrs(net.gw, "eth0")


def test_failing_apply_leaves_the_kernel_as_before(net):
    net.apply(BASE + ROUTES)
    before = snapshot(net.gw)
    bad = BASE.replace('"10.0.0.1/24"', '"10.0.0.1/24", "10.0.1.1/24"') + \
        ROUTES + """\
route "unreachable" {
  destination = "10.50.0.0/16"
  gateway     = "203.0.113.99"
}
"""
    r = net.apply(bad, check=False)
    assert r.returncode == 1
    # the error names the config line of the route the kernel refused
    line = bad.splitlines().index('route "unreachable" {') + 1
    assert f"moat.hcl:{line}:" in r.stderr
    assert "unreachable" in r.stderr
    after = snapshot(net.gw)
    assert strip_stats(before[0]) == strip_stats(after[0])
    assert before[1:] == after[1:]
    # and the firewall was not applied either
    assert not net.gw.has_table("inet", "moat") or \
        "10.50.0.0" not in net.gw.nft_text("table", "inet", "moat")


def test_missing_interface_is_a_located_error(net):
    r = net.apply(BASE + 'interface "eth7" {\n  ipv4 = ["10.7.0.1/24"]\n'
                  '}\n', check=False)
    assert r.returncode == 1
    line = (BASE + 'interface "eth7" {').count("\n") + 1
    assert f"moat.hcl:{line}:" in r.stderr
    assert "eth7" in r.stderr and "does not exist" in r.stderr
    assert addrs(net.gw, "eth0") == []


def test_diff_and_dry_run_show_changes(net, moat_bin):
    net.apply(BASE)
    net.cfg.write_text((BASE + ROUTES).replace("{state}", str(net.state)))
    r = net.gw.run(moat_bin, "diff", "-c", net.cfg, check=False)
    assert "+ route 10.9.0.0/16 via 192.0.2.1 metric 10" in r.stdout
    assert "+ rule 100: from all fwmark 0x40/0xff lookup 100" in r.stdout
    before = route_keys(net.gw)
    r = net.apply(BASE + ROUTES, "--dry-run")
    assert route_keys(net.gw) == before


def test_status_shows_interfaces_routes_and_rules(net, moat_bin):
    net.apply(BASE + ROUTES)
    r = net.gw.run(moat_bin, "status", "-c", net.cfg)
    out = r.stdout
    assert "eth0" in out and "192.0.2.2/24" in out and "1400" in out
    assert "10.9.0.0/16 via 192.0.2.1" in out
    assert "fwmark 0x40/0xff lookup 100" in out
    js = json.loads(net.gw.run(moat_bin, "status", "-c", net.cfg,
                               "--json").stdout)
    assert "net" in js


def test_ipv6_device_route_and_prefix_change(net):
    v6 = BASE + """\
route "v6" {
  destination = "2001:db8:5::/48"
  interface   = "eth0"
}
"""
    net.apply(v6)
    assert any(k[0] == "2001:db8:5::/48" for k in route_keys(net.gw))
    # the kernel reports IPv6 routes as scope universe: still unchanged
    net.cfg.touch()
    assert "network: unchanged" in net.apply(v6).stdout
    # IPv6 keys an address without its prefix: a new prefix replaces it
    net.apply(v6.replace("2001:db8::2/64", "2001:db8::2/56"))
    assert addrs(net.gw, "eth0") == ["192.0.2.2/24", "2001:db8::2/56"]


def test_unchanged_apply_after_a_failure_clears_it(net, moat_bin):
    net.apply(BASE)
    bad = BASE + """\
route "unreachable" {
  destination = "10.50.0.0/16"
  gateway     = "203.0.113.99"
}
"""
    assert net.apply(bad, check=False).returncode == 1
    st = json.loads(net.gw.run(moat_bin, "status", "-c", net.cfg, "--json",
                               check=False).stdout)
    assert st["net"]["last_error"] is not None
    # the kernel was put back, so this apply has nothing to change: it
    # must still say that the last apply (this one) went well
    assert "network: unchanged" in net.apply(BASE).stdout
    st = json.loads(net.gw.run(moat_bin, "status", "-c", net.cfg, "--json",
                               check=False).stdout)
    assert st["net"]["last_error"] is None
    assert "the last apply failed" not in st["net"]["problems"]


def test_routes_of_someone_else_in_the_way(net):
    net.gw.run("ip", "link", "set", "eth0", "up")
    net.gw.run("ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
    net.gw.run("ip", "route", "add", "10.9.0.0/16", "via", UP, "metric",
               "10", "proto", "static")
    # identical to the config's: left as it is, with a warning
    r = net.apply(BASE + ROUTES)
    assert "exists already, not moat's: left as it is" in r.stderr
    got = ipj(net.gw, "route", "show", "10.9.0.0/16")
    assert len(got) == 1 and got[0]["protocol"] == "static"
    # another gateway with the same key: a located error, nothing changed
    net.gw.run("ip", "route", "replace", "10.9.0.0/16", "via", "192.0.2.3",
               "metric", "10", "proto", "static")
    net.cfg.touch()
    before = snapshot(net.gw)
    r = net.apply(BASE + ROUTES, check=False)
    after = snapshot(net.gw)
    assert r.returncode == 1
    line = (BASE + ROUTES).splitlines().index('route "office" {') + 1
    assert f"moat.hcl:{line}:" in r.stderr and "not moat's" in r.stderr
    assert before[1:] == after[1:]
