"""The REST API's security boundary, end to end: setup, sessions, CSRF,
roles, API tokens, login backoff, session expiry, and bad input. The
client is Python's http.client with its socket made inside the gateway's
namespace (apiclient.py); curl checks what http.client would hide (a
header too long, a body sent in chunks).

    +-----------+ eth0          eth0 +-----------+ eth1          eth0 +---------+
    | upstream  |--------------------|    gw     |--------------------|   lan   |
    | 192.0.2.1 |        192.0.2.2   | moat ctl  |  10.0.0.1          |10.0.0.2 |
    +-----------+                    | moat api  |                    +---------+
                                     | 127.0.0.1:18090 (HTTP)
                                     +-----------+

The namespaces, ctl's state and run directories and its stopping by PID
are test_ctl.py's `ctl` fixture.
"""
import json
import sqlite3
import time

import pytest

from apiclient import Client
from conftest import poll
from test_ctl import BASE, ctl  # noqa: F401 (ctl: the fixture)

PORT = 18090
ADMIN, PW = "admin", "correct horse battery"


def api_block(*lines):
    return "api {\n" + "".join(f"  {l}\n" for l in lines) + "}\n"


def start(ctl, *extra):
    ctl.write(BASE + api_block(f'listen = "127.0.0.1:{PORT}"', *extra))
    ctl.start()
    c = Client(ctl.gw.name, "127.0.0.1", PORT)
    poll(lambda: ping(c), 10, what="api /health")
    return c


def ping(c):
    try:
        return c.raw("GET", "/health")[0] == 200
    except OSError:
        return False


def admin(ctl, *extra):
    """An api with setup done and c logged in as the admin."""
    c = start(ctl, *extra)
    assert c.setup(ADMIN, PW)[0] == 201
    assert c.login(ADMIN, PW)[0] == 200
    return c


def curl(ctl, *argv):
    """(status, body) of curl run in the gateway's namespace."""
    r = ctl.gw.run("curl", "-s", "-o", "-", "-w", "\n%{http_code}",
                   "--max-time", "10", *argv, check=False)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def test_before_setup_only_setup_and_health_answer(ctl):
    c = start(ctl)
    for path in ("/api/status", "/api/auth/status", "/api/tokens"):
        st, _, body = c.get(path)
        if path == "/api/auth/status":
            assert st == 200 and body == {"authenticated": False,
                                          "setup_required": True}
        else:
            assert st == 428, (path, body)
            assert body["code"] == "setup_required"
    st, _, body = c.get("/api/setup/status")
    assert st == 200 and body == {"setup_done": False}
    assert c.login(ADMIN, PW)[0] == 428
    # a token that would be valid after setup is not looked at before
    c.token = "moat_" + "A" * 43
    assert c.get("/api/status")[0] == 428
    c.token = None
    st, _, body = c.setup(ADMIN, PW)
    assert st == 201 and json.loads(body) == {"user": ADMIN,
                                              "role": "admin"}
    # once only
    st, _, body = c.setup("other", PW)
    assert st == 409, body
    assert c.get("/api/setup/status")[2] == {"setup_done": True}


def test_setup_refuses_weak_input(ctl):
    c = start(ctl)
    st, _, body = c.setup(ADMIN, "short")
    assert st == 400 and b"password" in body
    st, _, body = c.setup("no spaces allowed", PW)
    assert st == 400
    assert c.get("/api/setup/status")[2] == {"setup_done": False}


def test_login_session_cookie_and_status(ctl):
    c = admin(ctl)
    cookie = c.last_headers if False else None
    st, hdrs, body = Client(ctl.gw.name, "127.0.0.1", PORT).login(ADMIN, PW)
    assert st == 200
    attrs = [a.strip().lower() for a in hdrs["set-cookie"].split(";")]
    assert "httponly" in attrs and "samesite=strict" in attrs
    assert "path=/" in attrs
    assert "secure" not in attrs          # plain HTTP on loopback
    body = json.loads(body)
    assert body["user"] == ADMIN and body["role"] == "admin"
    assert len(body["csrf_token"]) == 43
    assert "session" not in body          # the token is in the cookie only
    st, _, s = c.get("/api/auth/status")
    assert st == 200 and s["authenticated"] and s["user"] == ADMIN
    assert s["via"] == "session" and s["csrf_token"] == c.csrf
    assert c.get("/api/status")[0] == 200
    # logout ends it
    assert c.post("/api/auth/logout")[0] == 200
    assert c.get("/api/status")[0] == 401
    assert c.get("/api/auth/status")[2] == {"authenticated": False,
                                            "setup_required": False}
    del cookie


def test_wrong_password_and_unknown_user_look_alike(ctl):
    c = admin(ctl)
    a = Client(ctl.gw.name, "127.0.0.1", PORT)
    st1, _, b1 = a.login(ADMIN, "wrong password!")
    st2, _, b2 = a.login("nobody-here", "wrong password!")
    assert st1 == st2 == 401 and b1 == b2
    assert c.get("/api/status")[0] == 200


def test_csrf_is_needed_for_changes_by_cookie(ctl):
    c = admin(ctl)
    body = {"name": "ci", "role": "viewer"}
    st, _, e = c.post("/api/tokens", body, csrf=False)
    assert st == 403 and "X-CSRF-Token" in e["message"]
    assert "no valid CSRF token" in ctl.audit()
    st, _, e = c.post("/api/tokens", body,
                      headers={"X-CSRF-Token": "x" * 43}, csrf=False)
    assert st == 403
    # another session's token is not this one's
    other = Client(ctl.gw.name, "127.0.0.1", PORT)
    other.login(ADMIN, PW)
    st, _, e = c.post("/api/tokens", body,
                      headers={"X-CSRF-Token": other.csrf}, csrf=False)
    assert st == 403
    # reads need none
    assert c.get("/api/tokens", csrf=False)[0] == 200
    st, _, t = c.post("/api/tokens", body)
    assert st == 201
    # a Bearer request needs none
    b = Client(ctl.gw.name, "127.0.0.1", PORT)
    b.token = c.new_token("admin-tok", "admin")
    st, _, _ = b.post("/api/tokens", {"name": "x", "role": "viewer"})
    assert st == 201


def test_roles_and_tokens(ctl):
    c = admin(ctl)
    viewer = Client(ctl.gw.name, "127.0.0.1", PORT)
    viewer.token = c.new_token("dash", "viewer")
    operator = Client(ctl.gw.name, "127.0.0.1", PORT)
    operator.token = c.new_token("ops", "operator")
    assert viewer.get("/api/status")[0] == 200
    st, _, e = viewer.get("/api/tokens")
    assert st == 403 and e["code"] == "forbidden"
    assert "method tokens.list: the role does not allow it" in ctl.audit()
    assert operator.post("/api/tokens", {"name": "x",
                                         "role": "admin"})[0] == 403
    # no credentials, a made-up token, a malformed header
    anon = Client(ctl.gw.name, "127.0.0.1", PORT)
    assert anon.get("/api/status")[0] == 401
    anon.token = "moat_" + "B" * 43
    assert anon.get("/api/status")[0] == 401
    st, _, _ = anon.raw("GET", "/api/status",
                        headers={"Authorization": "Basic YTpi"})
    assert st == 401
    # a body with no credentials is refused before it is read
    st, _, _ = anon.raw("PUT", "/api/config/staged", b"#" * 100000,
                        headers={"Content-Type": "text/plain"})
    assert st == 401
    # listing never shows a value
    st, _, lst = c.get("/api/tokens")
    assert st == 200 and len(lst["tokens"]) == 2
    for t in lst["tokens"]:
        assert set(t) >= {"id", "name", "role", "created_by"}
        assert "token" not in t
        assert viewer.token not in json.dumps(t)
    # a viewer session (a user made by the admin) is a viewer too
    st, _, _ = c.post("/api/users", {"username": "watcher", "password": PW,
                                     "role": "viewer"})
    assert st == 201
    w = Client(ctl.gw.name, "127.0.0.1", PORT)
    assert w.login("watcher", PW)[0] == 200
    assert w.get("/api/status")[0] == 200
    assert w.post("/api/tokens", {"name": "x", "role": "viewer"})[0] == 403


def test_revoked_token_fails_on_its_next_request(ctl):
    c = admin(ctl)
    t = Client(ctl.gw.name, "127.0.0.1", PORT)
    t.token = c.new_token("temp", "viewer")
    assert t.get("/api/status")[0] == 200
    tid = [x["id"] for x in c.get("/api/tokens")[2]["tokens"]
           if x["name"] == "temp"][0]
    st, _, _ = c.request("DELETE", f"/api/tokens/{tid}")
    assert st == 200
    st, _, e = t.get("/api/status")
    assert st == 401 and "revoked" in e["message"]
    # twice: 404; not a number: 400
    assert c.request("DELETE", f"/api/tokens/{tid}")[0] == 404
    assert c.request("DELETE", "/api/tokens/abc")[0] == 400
    listed = [x for x in c.get("/api/tokens")[2]["tokens"] if x["id"] == tid]
    assert listed[0]["revoked_at_ms"] > 0


def test_login_backoff_per_user_and_per_source(ctl):
    c = admin(ctl)
    a = Client(ctl.gw.name, "127.0.0.1", PORT)
    for _ in range(3):
        assert a.login(ADMIN, "wrong password!")[0] == 401
    # the 3rd failure set a wait: even the right password waits
    st, hdrs, body = a.login(ADMIN, PW)
    assert st == 429, body
    retry = int(hdrs["retry-after"])
    assert 1 <= retry <= 2
    assert json.loads(body)["retry_after_ms"] > 0
    time.sleep(retry + 0.1)
    assert a.login(ADMIN, PW)[0] == 200
    # per source: other user names from the same address are slowed down
    for i in range(3):
        assert a.login(f"guess{i}", "wrong password!")[0] == 401
    assert a.login(ADMIN, PW)[0] == 429
    # a session made before keeps working
    assert c.get("/api/status")[0] == 200


def test_idle_session_expires(ctl):
    c = admin(ctl, 'session_idle_timeout = "2s"')
    assert c.get("/api/status")[0] == 200
    time.sleep(1.2)
    assert c.get("/api/status")[0] == 200   # used: not idle
    time.sleep(2.5)
    st, _, e = c.get("/api/status")
    assert st == 401 and "ended" in e["message"]
    # and it stays ended
    assert c.get("/api/status")[0] == 401
    # a session nobody presents again is deleted at the next login
    quiet = Client(ctl.gw.name, "127.0.0.1", PORT)
    assert quiet.login(ADMIN, PW)[0] == 200
    time.sleep(2.5)
    assert c.login(ADMIN, PW)[0] == 200
    db = sqlite3.connect(f"file:{ctl.state}/moat.db?mode=ro", uri=True)
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    db.close()


def test_session_lifetime_ends_an_active_session(ctl):
    c = admin(ctl, 'session_timeout = "3s"')
    end = time.time() + 2.5
    while time.time() < end:
        assert c.get("/api/status")[0] == 200
        time.sleep(0.5)
    time.sleep(1.5)
    assert c.get("/api/status")[0] == 401


def test_password_change_ends_the_other_sessions(ctl):
    c = admin(ctl)
    other = Client(ctl.gw.name, "127.0.0.1", PORT)
    assert other.login(ADMIN, PW)[0] == 200
    st, _, e = c.request("PUT", "/api/auth/password",
                         {"old_password": "not it at all",
                          "new_password": "another good one"})
    assert st == 403 and "old password" in e["message"]
    st, _, e = c.request("PUT", "/api/auth/password",
                         {"old_password": PW, "new_password": "short"})
    assert st == 400
    st, _, _ = c.request("PUT", "/api/auth/password",
                         {"old_password": PW,
                          "new_password": "another good one"})
    assert st == 200
    assert c.get("/api/status")[0] == 200      # this one goes on
    assert other.get("/api/status")[0] == 401  # the other ended
    fresh = Client(ctl.gw.name, "127.0.0.1", PORT)
    assert fresh.login(ADMIN, PW)[0] == 401
    assert fresh.login(ADMIN, "another good one")[0] == 200
    # a token has no password
    t = Client(ctl.gw.name, "127.0.0.1", PORT)
    t.token = c.new_token("t", "admin")
    st, _, _ = t.request("PUT", "/api/auth/password",
                         {"old_password": "x", "new_password": "y" * 12})
    assert st == 400


def test_bad_input_gets_clear_errors_and_breaks_nothing(ctl):
    c = admin(ctl)
    api_pid = ctl.status()["api"]["pid"]
    u = f"http://127.0.0.1:{PORT}"
    cases = [
        (b'{"name": "x", "role":', 400, "invalid JSON"),
        (b'{"name": 5, "role": "viewer"}', 400, "name"),
        (b'{"name": "x", "role": "viewer", "admin": true}', 400,
         "unknown field"),
        (b'["name"]', 400, "object"),
        (b'{"name": "\xff\xfe", "role": "viewer"}', 400, "UTF-8"),
        (b'{"name": "x", "name": "y", "role": "viewer"}', 400, "name"),
        (b'{"name": "x", "role": "root"}', 400, "role"),
        (b'', 400, ""),
    ]
    for body, status, words in cases:
        st, _, e = c.post("/api/tokens", body,
                          headers={"Content-Type": "application/json"})
        assert st == status, (body, e)
        assert e["code"] == "invalid_request" and words in json.dumps(e), e
    # JSON only: a cross-site form or text/plain post is not one
    for ctype in ("text/plain", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", "application/jsonx"):
        st, _, e = c.post("/api/tokens", b'{"name": "x", "role": "viewer"}',
                          headers={"Content-Type": ctype})
        assert st == 415 and e["code"] == "unsupported_media_type", ctype
    st, body = curl(ctl, "-X", "POST", "-d",
                    '{"username":"admin","password":"x"}',
                    f"{u}/api/auth/login")
    assert st == 415, body
    # over the route's limit: by Content-Length, and chunked
    st, _, e = c.post("/api/tokens", b"{" + b" " * 5000 + b"}",
                      headers={"Content-Type": "application/json"})
    assert st == 413 and e["code"] == "payload_too_large"
    st, body = curl(ctl, "-H", "Transfer-Encoding: chunked", "-X", "POST",
                    "--data-binary", "@-", f"{u}/api/auth/login")
    assert st == 400
    big = "x" * 8000
    r = ctl.gw.run("sh", "-c", f"head -c 9000 /dev/zero | curl -s -o - -w "
                   f"'\\n%{{http_code}}' -H 'Transfer-Encoding: chunked' "
                   f"--data-binary @- {u}/api/auth/login", check=False)
    assert r.stdout.rstrip().endswith("413"), r.stdout
    # a body where none is taken
    st, _, e = c.post("/api/auth/logout", b"{}",
                      headers={"Content-Type": "application/json"})
    assert st == 413
    # a header too long for the connection's memory: MHD's 431
    st, _ = curl(ctl, "-H", f"X-Long: {big * 5}", f"{u}/health")
    assert st == 431
    # a path too long, path tricks, no such path, wrong method
    st, _, e = c.get("/api/" + "a" * 2000)
    assert st == 414
    for path in ("/api/../health", "/api//status", "/api/./status",
                 "/api/status%00x", "/api/%2e%2e/health"):
        st, body = curl(ctl, "--path-as-is", u + path)
        assert st in (400, 404), (path, st, body)
    st, _, e = c.get("/api/nothing-here")
    assert st == 404 and e["code"] == "not_found"
    st, hdrs, e = c.request("PATCH", "/api/tokens")
    assert st == 405 and hdrs["allow"] == "GET, HEAD, POST"
    # nothing crashed, nothing restarted
    assert c.get("/api/status")[0] == 200
    assert ctl.status()["api"]["pid"] == api_pid
    assert not ctl.dead()


def test_secrets_are_not_logged(ctl):
    c = admin(ctl)
    tok = c.new_token("secret-one", "viewer")
    Client(ctl.gw.name, "127.0.0.1", PORT).login(ADMIN, "wrong password!")
    audit = ctl.audit()
    log = ctl.log.read_text()
    for secret in (PW, tok, c.cookie, c.csrf, "wrong password!"):
        assert secret not in audit and secret not in log
    # but the actions are audited, with who did them
    assert "setup.create_admin" in audit and "auth.login" in audit
    assert "tokens.create" in audit and "admin" in audit


def test_https_session_cookie_is_secure(ctl):
    ctl.write(BASE + api_block('tls_listen = "127.0.0.1:18443"'))
    ctl.start()
    c = Client(ctl.gw.name, "127.0.0.1", 18443, tls=True)
    poll(lambda: ping(c), 10, what="api over HTTPS")
    assert c.setup(ADMIN, PW)[0] == 201
    st, hdrs, _ = c.login(ADMIN, PW)
    assert st == 200
    attrs = [a.strip().lower() for a in hdrs["set-cookie"].split(";")]
    assert "secure" in attrs and "httponly" in attrs
    assert c.get("/api/status")[0] == 200


def test_listener_on_an_address_moat_puts_on_the_lan(ctl):
    """At boot the LAN address does not exist until ctl's first apply puts
    it on eth1, and ctl opens its listeners before that apply (IP_FREEBIND):
    HTTPS on 10.0.0.1 is served from the LAN once the apply is done; a
    listener on an address no interface gets is named in the log."""
    ctl.write(BASE + api_block('tls_listen = "10.0.0.1:18445"',
                               'listen = "127.0.0.1:18446"',
                               'allow_plain_http = true'))
    assert "10.0.0.1" not in ctl.gw.run("ip", "-4", "addr").stdout
    ctl.start()
    r = ctl.t.lan.run("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                      "--max-time", "5", "https://10.0.0.1:18445/health",
                      check=False)
    assert r.stdout == "200", (r, ctl.log.read_text())
    assert "no interface has that address" not in ctl.log.read_text()
    ctl.stop()
    ctl.write(BASE + api_block('tls_listen = "10.0.0.9:18445"'))
    ctl.start()
    poll(lambda: "10.0.0.9:18445\": no interface has that address" in
         ctl.log.read_text(), 5, what="the warning")
