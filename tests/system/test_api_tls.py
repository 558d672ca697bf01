"""moat ctl's listeners for api: HTTPS with a self-signed certificate made
on first start when the config names none, and plain HTTP only on
loopback unless the block says allow_plain_http. curl and openssl, run in
the lan namespace, are the clients.

    +-----------+ eth0          eth0 +-----------+ eth1          eth0 +---------+
    | upstream  |--------------------|    gw     |--------------------|   lan   |
    | 192.0.2.1 |        192.0.2.2   | moat ctl  |  10.0.0.1          |10.0.0.2 |
    +-----------+                    | moat api  |                    | curl    |
                                     +-----------+                    | openssl |
                                      127.0.0.1: plain, loopback      +---------+
                                      10.0.0.1:  HTTPS, or plain when allowed

The namespaces, ctl's own state and run directories and its stopping by
PID are test_ctl.py's `ctl` fixture; the certificate lives in
STATE/tls/api.crt and api.key.
"""
import os
import re
import signal
import stat
import subprocess

from conftest import poll
from test_ctl import BASE, LAN_GW, ctl  # noqa: F401 (ctl: the fixture)

TLS_PORT, PLAIN_PORT, LOOP_PORT = 18443, 18080, 18081
FP = re.compile(r"SHA256 Fingerprint=((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")


def api_block(*lines):
    return "api {\n" + "".join(f"  {l}\n" for l in lines) + "}\n"


TLS = api_block(f'tls_listen = "{LAN_GW}:{TLS_PORT}"',
                f'listen = "127.0.0.1:{LOOP_PORT}"')


def curl(ns, url, *opts):
    """The HTTP status, or "000" and curl's exit code (7: refused)."""
    r = ns.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
               "--max-time", "5", *opts, url, check=False)
    return r.stdout.strip(), r.returncode


def https_ok(ctl, *opts):
    return curl(ctl.t.lan, f"https://{LAN_GW}:{TLS_PORT}/health",
                *opts)[0] == "200"


def served_fingerprint(ctl):
    """What openssl's client sees: `openssl x509 -fingerprint -sha256`."""
    r = ctl.t.lan.run("sh", "-c", f"openssl s_client -connect "
                      f"{LAN_GW}:{TLS_PORT} </dev/null 2>/dev/null | "
                      "openssl x509 -fingerprint -sha256 -noout")
    return FP.search(r.stdout.replace("sha256", "SHA256")).group(1)


def logged_fingerprints(ctl):
    return FP.findall(ctl.log.read_text())


def tls_files(ctl):
    d = ctl.state / "tls"
    return d, d / "api.crt", d / "api.key"


def start(ctl):
    """ctl opens its listeners before it applies the config: the address
    it listens on must be there already (as on a gateway whose interface
    was configured before ctl starts)."""
    if "10.0.0.1/24" not in ctl.gw.run("ip", "addr", "show", "eth1").stdout:
        ctl.gw.run("ip", "addr", "add", "10.0.0.1/24", "dev", "eth1")
        ctl.gw.run("ip", "link", "set", "eth1", "up")
    return ctl.start()


def restart(ctl):
    ctl.stop()
    start(ctl)


def test_self_signed_certificate_made_on_first_start(ctl):
    ctl.write(BASE + TLS)
    start(ctl)
    poll(lambda: https_ok(ctl, "-k"), 10, what="HTTPS /health")
    log = ctl.log.read_text()
    assert "made the self-signed certificate" in log, log
    fps = logged_fingerprints(ctl)
    assert len(fps) == 1, log
    assert served_fingerprint(ctl) == fps[0]
    assert ctl.status()["api"]["tls_fingerprint"] == fps[0]
    d, crt, key = tls_files(ctl)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "BEGIN PRIVATE KEY" in key.read_text()
    # what it says, read by openssl
    text = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout",
                           "-text"], capture_output=True, text=True,
                          check=True).stdout
    host = os.uname().nodename
    assert f"CN = moat {host}" in text, text
    assert f"DNS:{host}" in text and "DNS:localhost" in text, text
    assert f"IP Address:{LAN_GW}" in text, text
    assert "CA:FALSE" in text and "Digital Signature" in text, text
    assert "TLS Web Server Authentication" in text, text
    assert "ecdsa-with-SHA256" in text and "prime256v1" in text, text
    # and it verifies as itself for the address it listens on
    assert https_ok(ctl, "--cacert", str(crt))
    # plain HTTP on loopback next to it
    assert curl(ctl.gw, f"http://127.0.0.1:{LOOP_PORT}/health")[0] == "200"


def test_restart_keeps_the_certificate(ctl):
    ctl.write(BASE + TLS)
    start(ctl)
    poll(lambda: https_ok(ctl, "-k"), 10, what="HTTPS /health")
    fp = logged_fingerprints(ctl)[0]
    _, crt, key = tls_files(ctl)
    pem = crt.read_bytes(), key.read_bytes()
    restart(ctl)
    poll(lambda: https_ok(ctl, "-k"), 10, what="HTTPS /health again")
    log = ctl.log.read_text()
    assert "made the self-signed certificate" not in log, log
    assert logged_fingerprints(ctl) == [fp], log
    assert served_fingerprint(ctl) == fp
    assert (crt.read_bytes(), key.read_bytes()) == pem


def test_takeover_serves_the_same_certificate(ctl):
    ctl.write(BASE + TLS)
    old = start(ctl)
    poll(lambda: https_ok(ctl, "-k"), 10, what="HTTPS /health")
    fp = logged_fingerprints(ctl)[0]
    old.send_signal(signal.SIGUSR2)
    old.wait(timeout=20)
    new = poll(lambda: (ctl.status() or {}).get("pid"), 10,
               what="the new ctl answering")
    assert new != old.pid
    poll(lambda: https_ok(ctl, "-k"), 10, what="HTTPS after the takeover")
    assert served_fingerprint(ctl) == fp
    assert ctl.status()["api"]["tls_fingerprint"] == fp
    os.kill(new, signal.SIGTERM)
    poll(lambda: not os.path.exists(f"/proc/{new}"), 20, what="it stopping")


def test_plain_http_only_on_loopback(ctl):
    plain = api_block(f'listen = "{LAN_GW}:{PLAIN_PORT}"')
    web = f'web {{\n  listen = "127.0.0.1:{LOOP_PORT}"\n}}\n'
    ctl.write(BASE + plain + web)
    r = ctl.ask("check", "-c", ctl.cfg)
    assert (f"api: listen {LAN_GW}:{PLAIN_PORT} is plain HTTP on a "
            "non-loopback address and is not opened; use tls_listen, or "
            "set allow_plain_http = true") in r.stdout + r.stderr
    start(ctl)
    poll(lambda: curl(ctl.gw, f"http://127.0.0.1:{LOOP_PORT}/health")[0]
         == "200", 10, what="loopback /health")
    code, rc = curl(ctl.t.lan, f"http://{LAN_GW}:{PLAIN_PORT}/health")
    assert (code, rc) == ("000", 7), (code, rc)   # refused
    assert not ctl.gw.listening(PLAIN_PORT)
    assert f"listen {LAN_GW}:{PLAIN_PORT} is plain HTTP" in \
        ctl.log.read_text()
    # allowed: served (listening addresses change with a restart)
    ctl.write(BASE + plain.replace("}\n", "  allow_plain_http = true\n}\n")
              + web)
    restart(ctl)
    poll(lambda: curl(ctl.t.lan, f"http://{LAN_GW}:{PLAIN_PORT}/health")[0]
         == "200", 10, what="plain /health from the lan")
    assert curl(ctl.gw, f"http://127.0.0.1:{LOOP_PORT}/health")[0] == "200"


def test_a_broken_certificate_is_not_served(ctl, tmp_path):
    ctl.write(BASE + TLS)
    start(ctl)
    poll(lambda: https_ok(ctl, "-k"), 10, what="HTTPS /health")
    _, crt, key = tls_files(ctl)
    good = crt.read_bytes()
    ctl.stop()

    def refused_but_running(what):
        start(ctl)
        log = ctl.log.read_text()
        assert what in log, log
        assert "ctl: running" in ctl.ask("status", "-c", ctl.cfg).stdout
        assert not ctl.dead()
        poll(lambda: curl(ctl.gw, f"http://127.0.0.1:{LOOP_PORT}/health")[0]
             == "200", 10, what="loopback /health")
        assert curl(ctl.t.lan, f"https://{LAN_GW}:{TLS_PORT}/health",
                    "-k")[1] == 7
        assert "tls_fingerprint" not in ctl.status()["api"]
        ctl.stop()

    # not a certificate
    crt.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n"
                   "-----END CERTIFICATE-----\n")
    refused_but_running(f"{crt}: not a PEM certificate")
    # a certificate, of another key
    other_key = tmp_path / "other.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=other", "-keyout", str(other_key),
                    "-out", str(crt)], check=True, capture_output=True)
    refused_but_running(f"{crt}: its key is not the one in {key}")
    # the key gone: the certificate is not replaced behind one's back
    crt.write_bytes(good)
    key.rename(tmp_path / "gone.key")
    refused_but_running(f"{key}: missing")
    assert crt.read_bytes() == good
