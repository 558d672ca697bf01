"""The REST API's staged configuration and status, end to end: the running
config with its secrets redacted, a staged config (refused with its line
and column when it has errors), its diff, validate, apply, commit-confirmed
through the API (confirmed, and rolled back when the confirmation never
comes, checked with ip and nft), discard, revisions and rollback, the audit
log by pages, and the interfaces' and the firewall's counters moving under
real traffic (ping from the upstream namespace).

    +-----------+ eth0          eth0 +-----------+ eth1          eth0 +---------+
    | upstream  |--------------------|    gw     |--------------------|   lan   |
    | 192.0.2.1 |        192.0.2.2   | moat ctl  |  10.0.0.1          |10.0.0.2 |
    |   ping    |                    | moat api  |                    +---------+
    +-----------+                    | 127.0.0.1:18092 (HTTP)
                                     +-----------+

The client is Python's http.client with its socket made inside the
gateway's namespace (apiclient.py). The namespaces, ctl's state and run
directories and its stopping by PID are test_ctl.py's `ctl` fixture.
"""
import json
import os
import subprocess

from apiclient import Client
from conftest import poll
from test_ctl import BASE, ROUTE, WEB, ctl, ipj  # noqa: F401 (ctl: fixture)

PORT = 18092
ADMIN, PW = "admin", "correct horse battery"
API = f'api {{\n  listen = "127.0.0.1:{PORT}"\n}}\n'
PING = ('policy "eth0" "self" {\n  rule "ping" {\n    proto   = "icmp"\n'
        '    counter = true\n    action  = "accept"\n  }\n}\n')
TEXT = {"Content-Type": "text/plain"}


def start(ctl, extra=""):
    """ctl running BASE + the api block + extra; a client logged in as
    the admin."""
    ctl.write(BASE + API + extra)
    ctl.start()
    c = Client(ctl.gw.name, "127.0.0.1", PORT)
    poll(lambda: ping_api(c), 10, what="api /health")
    assert c.setup(ADMIN, PW)[0] == 201
    assert c.login(ADMIN, PW)[0] == 200
    return c


def ping_api(c):
    try:
        return c.raw("GET", "/health")[0] == 200
    except OSError:
        return False


def client(ctl, admin, role):
    t = Client(ctl.gw.name, "127.0.0.1", PORT)
    t.token = admin.new_token(f"{role}-tok", role)
    return t


def running(c):
    st, _, body = c.get("/api/config")
    assert st == 200, body
    return body


def stage(c, text):
    return c.request("PUT", "/api/config/staged", text, headers=TEXT)


def routes(ctl):
    return [r["dst"] for r in ipj(ctl.gw, "-4", "route", "show", "table",
                                  "all", "proto", "77")]


def wg_key():
    return subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_running_config_never_shows_a_secret(wgdev, ctl):
    key = wg_key()
    dev = wgdev("mcfg")
    vpn = (f'vpn {{\n  wireguard "vpn0" {{\n    interface   = "{dev}"\n'
           f'    private_key = "{key}"\n    listen_port = 51998\n'
           f'    address     = ["10.78.0.1/24"]\n  }}\n}}\n')
    c = start(ctl, vpn)
    st, _, raw = c.raw("GET", "/api/config",
                       headers={"Cookie": "moat_session=" + c.cookie})
    assert st == 200 and key.encode() not in raw
    cfg = json.loads(raw)
    assert 'private_key = "(redacted)"' in cfg["config"], cfg["config"]
    status = c.get("/api/status")[2]
    assert cfg["revision"] == status["revision"]
    assert cfg["hash"] == status["config_hash"]
    assert cfg["path"] == str(ctl.cfg)
    # the HCL itself, for an editor
    st, hdrs, text = c.get("/api/config", headers={"Accept": "text/plain"})
    assert st == 200 and hdrs["content-type"].startswith("text/plain")
    assert text.decode() == cfg["config"]
    assert hdrs["x-moat-revision"] == str(cfg["revision"])
    # nothing staged yet
    st, _, e = c.get("/api/config/staged")
    assert st == 404 and e["code"] == "not_found"
    # GET, edit, PUT: the placeholder takes the running key back
    edited = cfg["config"] + ROUTE
    st, _, s = stage(c, edited)
    assert st == 200 and s["staged"] and s["changed"], s
    st, _, raw = c.raw("GET", "/api/config/staged",
                       headers={"Cookie": "moat_session=" + c.cookie})
    assert st == 200 and key.encode() not in raw
    assert json.loads(raw)["config"] == edited
    st, _, d = c.get("/api/config/diff")
    assert st == 200 and key not in json.dumps(d)
    assert d["components"] == {"wg": "unchanged", "net": "changed",
                               "fw": "unchanged"}, d
    st, _, a = c.post("/api/config/apply")
    assert st == 200 and a["ok"], a
    assert key in ctl.cfg.read_text()       # the file ctl runs has it
    assert "10.9.0.0/16" in routes(ctl)
    # a new key in a new device cannot be "(redacted)"
    st, _, e = stage(c, edited.replace('"vpn0"', '"vpn1"'))
    assert st == 422, e
    assert any("vpn1" in x["message"] for x in e["diagnostics"]), e
    # nothing secret in the audit log either
    st, _, log = c.get("/api/audit?limit=1000")
    assert st == 200 and key not in json.dumps(log)


def test_staged_config_with_errors_is_refused_at_its_line(ctl):
    c = start(ctl)
    good = running(c)["config"]
    bad = good + 'route "x" {\n  destination = "10.1.2.3/16"\n' \
        '  gateway = "192.0.2.1"\n}\n'
    line = bad.splitlines().index('  destination = "10.1.2.3/16"') + 1
    st, _, e = stage(c, bad)
    assert st == 422 and e["code"] == "invalid_config", e
    errs = [d for d in e["diagnostics"] if d["severity"] == "error"]
    assert errs and errs[0]["line"] == line and errs[0]["column"] > 0, e
    assert set(errs[0]) == {"severity", "line", "column", "message"}
    assert c.get("/api/config/staged")[0] == 404      # nothing staged
    # a typo: the loader's line and column, with its suggestion
    typo = good + 'route "y" {\n  destinaton = "10.2.0.0/16"\n}\n'
    st, _, e = stage(c, typo)
    assert st == 422
    line = typo.splitlines().index('  destinaton = "10.2.0.0/16"') + 1
    (d,) = [d for d in e["diagnostics"] if "did you mean" in d["message"]]
    assert (d["line"], d["column"]) == (line, 3), e
    assert e["errors"] == len(e["diagnostics"]) == 3, e
    # a syntax error
    st, _, e = stage(c, good + "route {{{\n")
    assert st == 422 and e["diagnostics"][0]["line"] == \
        len(good.splitlines()) + 1, e
    # the JSON form stages too
    st, _, s = c.request("PUT", "/api/config/staged",
                         {"config": good + ROUTE})
    assert st == 200 and s["staged"], s
    assert c.get("/api/config/staged")[2]["config"] == good + ROUTE
    # what a body may not be
    st, _, e = c.request("PUT", "/api/config/staged", "x = 1",
                         headers={"Content-Type":
                                  "application/x-www-form-urlencoded"})
    assert st == 415, e
    st, _, e = c.request("PUT", "/api/config/staged", good + "\x01",
                         headers=TEXT)
    assert st == 400 and "control character" in e["message"], e
    st, _, e = c.request("PUT", "/api/config/staged", b"a = \"\xff\"\n",
                         headers=TEXT)
    assert st == 400 and "UTF-8" in e["message"], e
    big = ctl.state.parent / "big.hcl"
    big.write_text("#" * (1 << 20) + "\n")
    r = ctl.gw.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                   "-X", "PUT", "-H", "Content-Type: text/plain",
                   "--data-binary", f"@{big}",
                   f"http://127.0.0.1:{PORT}/api/config/staged", check=False)
    assert r.stdout == "413", r
    # the staged config survived all of that
    assert c.get("/api/config/staged")[2]["config"] == good + ROUTE


def test_validate(ctl):
    c = start(ctl)
    good = running(c)["config"]
    operator = client(ctl, c, "operator")
    viewer = client(ctl, c, "viewer")
    # nothing staged, no body
    st, _, e = operator.post("/api/config/validate")
    assert st == 409, e
    st, _, v = operator.request("POST", "/api/config/validate",
                                good + WEB, headers=TEXT)
    assert st == 200 and v["valid"] and v["diagnostics"] == [], v
    bad = good + 'interface "eth1" {\n  mtu = 70000\n}\n'
    st, _, v = operator.request("POST", "/api/config/validate", bad,
                                headers=TEXT)
    assert st == 200 and not v["valid"], v
    assert all(d["line"] > 0 and d["column"] > 0 for d in v["diagnostics"])
    # the staged one
    assert stage(c, good + WEB)[0] == 200
    st, _, v = operator.post("/api/config/validate")
    assert st == 200 and v["valid"], v
    assert viewer.post("/api/config/validate")[0] == 403


def test_diff_text_and_structure(ctl):
    c = start(ctl)
    st, _, e = c.get("/api/config/diff")
    assert st == 409 and e["code"] == "conflict", e
    good = running(c)["config"]
    assert stage(c, good + ROUTE)[0] == 200
    st, _, d = c.get("/api/config/diff")
    assert st == 200, d
    assert d["text"].startswith("--- running\n+++ staged\n@@ "), d["text"]
    assert '+route "office" {' in d["text"].splitlines()
    assert '+  destination = "10.9.0.0/16"' in d["text"].splitlines()
    assert [b["op"] for b in d["blocks"]] == ["added"]
    assert d["blocks"][0]["block"] == 'route "office"'
    assert d["blocks"][0]["new_line"] == len(good.splitlines()) + 1
    assert d["components"] == {"wg": "unchanged", "net": "changed",
                               "fw": "unchanged"}
    assert d["changed"] and d["base_revision"] == d["running_revision"]
    # a changed attribute of a block
    assert stage(c, good.replace('action = "accept"',
                                 'action = "drop"', 1))[0] == 200
    d = c.get("/api/config/diff")[2]
    assert d["blocks"][0]["op"] == "changed", d["blocks"]
    assert d["blocks"][0]["changes"][0]["attribute"] == "action"
    assert d["components"]["fw"] == "changed"
    assert d["components"]["net"] == "unchanged"
    # the same text: nothing
    assert stage(c, good)[0] == 200
    d = c.get("/api/config/diff")[2]
    assert d["text"] == "" and d["blocks"] == [] and not d["changed"]
    assert set(d["components"].values()) == {"unchanged"}


def test_apply_discard_and_roles(ctl):
    c = start(ctl)
    good = running(c)["config"]
    viewer = client(ctl, c, "viewer")
    operator = client(ctl, c, "operator")
    st, _, e = c.post("/api/config/apply")
    assert st == 409 and "nothing is staged" in e["message"], e
    assert stage(c, good + ROUTE)[0] == 200
    # only an admin applies; the staged config stays
    st, _, e = viewer.post("/api/config/apply")
    assert st == 403 and e["code"] == "forbidden", e
    assert operator.post("/api/config/apply")[0] == 403
    assert viewer.get("/api/config/staged")[0] == 403
    assert "10.9.0.0/16" not in routes(ctl)
    before = running(c)["revision"]
    st, _, a = c.post("/api/config/apply")
    assert st == 200 and a["ok"], a
    assert a["components"] == {"wg": "unchanged", "net": "applied",
                               "fw": "unchanged"}, a
    assert a["revision"] > before
    assert "10.9.0.0/16" in routes(ctl)
    assert ctl.cfg.read_text().endswith(ROUTE)
    assert running(c)["revision"] == a["revision"]
    assert c.get("/api/config/staged")[0] == 404      # applied: gone
    # discard
    assert stage(c, good + ROUTE + WEB)[0] == 200
    assert operator.post("/api/config/discard")[0] == 403
    st, _, r = c.post("/api/config/discard")
    assert st == 200 and r == {"discarded": True}
    assert c.get("/api/config/staged")[0] == 404
    assert c.post("/api/config/discard")[2] == {"discarded": False}
    assert c.post("/api/config/apply")[0] == 409
    # by cookie, a change needs the CSRF token
    assert stage(c, good)[0] == 200
    st, _, e = c.post("/api/config/apply", csrf=False)
    assert st == 403 and "CSRF" in e["message"], e


def test_apply_the_kernel_refuses_answers_422(ctl, tmp_path, monkeypatch):
    fault = tmp_path / "fault"
    monkeypatch.setenv("MOAT_CTL_FAULT", str(fault))
    c = start(ctl)
    good = running(c)["config"]
    fw0 = ctl.gw.nft_text("table", "inet", "moat")
    assert stage(c, good + ROUTE + WEB)[0] == 200
    fault.write_text("fw\n")
    st, _, e = c.post("/api/config/apply")
    assert st == 422 and e["code"] == "invalid_config", e
    assert not e["ok"] and "MOAT_CTL_FAULT" in e["message"], e
    assert e["components"]["net"] == "rolled back"
    assert e["components"]["fw"] == "failed"
    assert "10.9.0.0/16" not in routes(ctl)
    assert ctl.gw.nft_text("table", "inet", "moat") == fw0
    # still staged, and it applies once the kernel takes it
    assert c.get("/api/config/staged")[0] == 200
    fault.unlink()
    st, _, a = c.post("/api/config/apply")
    assert st == 200 and a["ok"], a
    assert "10.9.0.0/16" in routes(ctl)


def test_staged_config_survives_a_restart_of_ctl(ctl):
    c = start(ctl)
    good = running(c)["config"]
    assert stage(c, good + WEB)[0] == 200
    mode = os.stat(ctl.state / "staged.json").st_mode & 0o777
    assert mode == 0o600, oct(mode)
    ctl.stop()
    ctl.start()
    poll(lambda: ping_api(c), 10, what="api /health")
    assert c.login(ADMIN, PW)[0] == 200
    st, _, s = c.get("/api/config/staged")
    assert st == 200 and s["config"] == good + WEB, s
    assert c.post("/api/config/discard")[0] == 200
    assert not (ctl.state / "staged.json").exists()


def test_apply_with_confirm_and_confirm(ctl):
    c = start(ctl)
    good = running(c)["config"]
    operator = client(ctl, c, "operator")
    assert operator.post("/api/config/confirm")[0] == 409
    assert stage(c, good + ROUTE)[0] == 200
    st, _, a = c.post("/api/config/apply", {"confirm_within": 30})
    assert st == 200 and a["ok"] and a["confirm_deadline_ms"] > 0, a
    s = c.get("/api/status")[2]
    assert s["awaiting_confirm"] and s["revision"] == a["revision"]
    assert running(c)["awaiting_confirm"]
    # nothing else changes meanwhile
    assert stage(c, good + ROUTE + WEB)[0] == 200
    st, _, e = c.post("/api/config/apply")
    assert st == 409 and "awaits confirmation" in e["message"], e
    assert c.post("/api/config/revisions/1/rollback")[0] == 409
    st, _, r = operator.post("/api/config/confirm")
    assert st == 200 and r["revision"] == a["revision"], r
    assert not c.get("/api/status")[2]["awaiting_confirm"]
    assert operator.post("/api/config/confirm")[0] == 409
    assert "10.9.0.0/16" in routes(ctl)
    revs = c.get("/api/config/revisions")[2]["revisions"]
    assert revs[0]["id"] == a["revision"]
    assert revs[0]["result"] == "confirmed"
    # the staged config made meanwhile is still there to apply
    assert c.get("/api/config/staged")[2]["config"] == good + ROUTE + WEB


def test_unconfirmed_apply_rolls_back(ctl):
    c = start(ctl)
    good = running(c)["config"]
    old = running(c)["revision"]
    file0 = ctl.cfg.read_text()
    fw0 = ctl.gw.nft_text("table", "inet", "moat")
    assert stage(c, good + ROUTE + WEB)[0] == 200
    st, _, a = c.post("/api/config/apply", {"confirm_within": 2})
    assert st == 200 and a["ok"], a
    assert "10.9.0.0/16" in routes(ctl)
    assert "dport 80 accept" in ctl.gw.nft_text("table", "inet", "moat")
    assert c.get("/api/status")[2]["awaiting_confirm"]
    poll(lambda: not c.get("/api/status")[2]["awaiting_confirm"], 15,
         what="the rollback")
    # the kernel went back: routes and the ruleset
    assert "10.9.0.0/16" not in routes(ctl)
    assert ctl.gw.nft_text("table", "inet", "moat") == fw0
    assert running(c)["revision"] == old
    assert c.get("/api/status")[2]["revision"] == old
    assert ctl.cfg.read_text() == file0
    revs = c.get("/api/config/revisions")[2]["revisions"]
    assert revs[0]["id"] == a["revision"]
    assert revs[0]["result"] == "rolled-back"
    log = c.get("/api/audit?limit=1000")[2]["entries"]
    assert any(e["action"] == "rollback" and "not confirmed in time" in
               e["detail"] for e in log), log


def test_revisions_and_rollback(ctl):
    c = start(ctl)
    good = running(c)["config"]
    first = running(c)["revision"]
    viewer = client(ctl, c, "viewer")
    assert stage(c, good + ROUTE)[0] == 200
    assert c.post("/api/config/apply")[2]["ok"]
    assert "10.9.0.0/16" in routes(ctl)
    st, _, revs = viewer.get("/api/config/revisions")
    assert st == 200, revs
    ids = [r["id"] for r in revs["revisions"]]
    assert ids == sorted(ids, reverse=True) and first in ids
    assert revs["running"] == ids[0]
    assert all("config" not in r for r in revs["revisions"])
    st, _, revs = viewer.get("/api/config/revisions?limit=1")
    assert st == 200 and len(revs["revisions"]) == 1
    assert viewer.get("/api/config/revisions?limit=0")[0] == 400
    # rollback: admin only; 404 for a revision that never was
    assert viewer.post(f"/api/config/revisions/{first}/rollback")[0] == 403
    st, _, e = c.post("/api/config/revisions/999999/rollback")
    assert st == 404 and e["code"] == "not_found", e
    assert c.post("/api/config/revisions/abc/rollback")[0] == 400
    assert c.post("/api/config/revisions/-1/rollback")[0] == 400
    st, _, r = c.post(f"/api/config/revisions/{first}/rollback")
    assert st == 200 and r["ok"] and r["from_revision"] == first, r
    assert r["components"]["net"] == "applied"
    assert "10.9.0.0/16" not in routes(ctl)
    assert running(c)["revision"] == r["revision"]
    assert running(c)["config"] == good


def test_audit_pages(ctl):
    c = start(ctl)
    good = running(c)["config"]
    for extra in (ROUTE, WEB, ""):
        assert stage(c, good + extra)[0] == 200
    c.post("/api/config/discard")
    st, _, every = c.get("/api/audit?limit=1000")
    assert st == 200 and every["next"] is None
    ids = [e["id"] for e in every["entries"]]
    assert len(ids) >= 5 and ids == sorted(ids)
    actions = [e["action"] for e in every["entries"]]
    assert actions.count("config.stage") == 3
    assert "config.discard" in actions
    # page by page
    seen, after = [], 0
    while True:
        st, _, page = c.get(f"/api/audit?after={after}&limit=2")
        assert st == 200 and len(page["entries"]) <= 2
        seen += [e["id"] for e in page["entries"]]
        if page["next"] is None:
            break
        assert page["next"] == page["entries"][-1]["id"]
        after = page["next"]
    assert seen[:len(ids)] == ids
    assert c.get("/api/audit?limit=0")[0] == 400
    assert c.get("/api/audit?after=x")[0] == 400
    assert client(ctl, c, "viewer").get("/api/audit")[0] == 403


def test_interface_and_rule_counters_move_with_traffic(ctl):
    c = start(ctl, PING)
    viewer = client(ctl, c, "viewer")

    def eth0():
        st, _, r = viewer.get("/api/interfaces")
        assert st == 200, r
        (i,) = [x for x in r["interfaces"] if x["name"] == "eth0"]
        return i

    def ping_rule():
        st, _, f = viewer.get("/api/firewall")
        assert st == 200, f
        (r,) = [x for x in f["rules"]
                if x.get("comment") == "policy eth0->self rule ping"]
        return f, r

    # the kernel's linkwatch sets the operational state a moment after
    # the link came up
    i0 = poll(lambda: (lambda i: i if i["operstate"] == "up" else None)(
        eth0()), 5, what="eth0's operstate up")
    assert i0["managed"] and i0["up"] and i0["carrier"]
    assert "192.0.2.2/24" in i0["addresses"]
    lo = [x for x in viewer.get("/api/interfaces")[2]["interfaces"]
          if x["name"] == "lo"][0]
    assert not lo["managed"]
    f0, r0 = ping_rule()
    assert f0["present"] and f0["ours"] and f0["in_sync"], f0
    assert f0["installed_hash"] == f0["running_hash"]
    assert f0["table"]["rules"] == len(f0["rules"]) > 0
    assert any(ch["name"] == "input" and ch["hook"] == "input"
               for ch in f0["chains"])
    # three pings, three flows: only a flow's first packet reaches the
    # policy's rules (the rest are established)
    for _ in range(3):
        ctl.t.up.run("ping", "-c", "1", "-W", "2", "192.0.2.2")
    i1 = eth0()
    assert i1["stats"]["rx_packets"] >= i0["stats"]["rx_packets"] + 3
    assert i1["stats"]["rx_bytes"] > i0["stats"]["rx_bytes"]
    assert i1["stats"]["tx_packets"] >= i0["stats"]["tx_packets"] + 3
    _, r1 = ping_rule()
    assert r1["counter"]["packets"] >= r0["counter"]["packets"] + 3, (r0, r1)
    assert r1["counter"]["bytes"] > r0["counter"]["bytes"]
    # rules without `counter = true` count nothing
    f1, _ = ping_rule()
    assert any(r["counter"] is None for r in f1["rules"])
    # no credentials: no counters
    assert Client(ctl.gw.name, "127.0.0.1", PORT).get(
        "/api/firewall")[0] == 401


def test_staged_config_is_not_applied_over_a_newer_running_one(ctl):
    """A staged text's redacted secrets were filled from the config that
    ran when it was staged; applied over a newer one it would bring back
    what that one changed (a rotated key), so apply answers 409."""
    c = start(ctl)
    assert stage(c, running(c)["config"] + ROUTE)[0] == 200
    # someone else changes the running config (the CLI, a reload)
    ctl.write(BASE + API + PING)
    ctl.ask("reload")
    st, _, e = c.post("/api/config/apply")
    assert st == 409 and "stage it again" in e["message"], e
    assert e["staged_against"] < e["running_revision"]
    assert "10.9.0.0/16" not in routes(ctl)
    # staged again against the new one, it applies
    assert stage(c, running(c)["config"] + ROUTE)[0] == 200
    st, _, e = c.post("/api/config/apply")
    assert st == 200, e
    poll(lambda: "10.9.0.0/16" in routes(ctl), 5, what="the route")
