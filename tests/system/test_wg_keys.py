"""moat wg genkey|pubkey|genpsk|import, and the client files and QR codes
of src/wg, checked with the real tools: wireguard-tools' wg and wg-quick,
wireguard-go, qrencode and zbarimg.

    host namespace: moat wg genkey/pubkey/genpsk <-> wg genkey/pubkey
                    moat wg import wg0.conf -> moat check
                    client file -> wg-quick strip -> stripped file
    +------------------- netns moatPID-N-wg --------------------+
    |  wireguard-go mqXXXXXXXX  <-- wg setconf (stripped file)   |
    |                           --> wg showconf: the same values |
    +-----------------------------------------------------------+

Key tests need no namespace. The device test makes one namespace (and no
link beside the device in it); wireguard-go is killed by its PID and the
namespace deleted in teardown, even when the test fails. wireguard-go
keeps its socket in /var/run/wireguard, shared by every namespace: the
device is named mq and random hex, and its socket is removed if left.

The client files and QR codes come from the unit test program
(tests/unit/test_wg_quick --client, --qr-text, --qr-png), built next to
moat; those tests are skipped when it was not built.

Run as root: MOAT=build/moat python3 -m pytest tests/system/test_wg_keys.py
"""
import base64
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import poll

N_KEYS = 50
WG_GO_ENV = "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1"


def run(argv, input=None, check=True):
    r = subprocess.run(argv, input=input, capture_output=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError(f"{argv} exited {r.returncode}: "
                             f"{r.stderr.decode(errors='replace')}")
    return r


def need(tool):
    if not shutil.which(tool):
        pytest.skip(f"{tool} is not installed")


@pytest.fixture
def helper(moat_bin):
    """The unit test program, in the build directory of moat."""
    p = Path(moat_bin).parent / "tests" / "unit" / "test_wg_quick"
    if not os.access(p, os.X_OK):
        pytest.skip(f"{p} not built (meson -Dtests=true)")
    return str(p)


def decode(key):
    raw = base64.b64decode(key, validate=True)
    assert len(raw) == 32 and len(key) == 44
    return raw


# --- keys -------------------------------------------------------------------

def test_moat_genkey_wg_pubkey(moat_bin):
    """moat's keys are clamped as wg's, and wg finds the same public key."""
    need("wg")
    seen = set()
    for _ in range(N_KEYS):
        priv = run([moat_bin, "wg", "genkey"]).stdout
        assert priv.endswith(b"\n")
        raw = decode(priv.strip().decode())
        assert raw[0] & 7 == 0 and raw[31] & 0x80 == 0 and raw[31] & 0x40
        ours = run([moat_bin, "wg", "pubkey"], input=priv).stdout
        theirs = run(["wg", "pubkey"], input=priv).stdout
        assert ours == theirs
        decode(ours.strip().decode())
        seen.add(priv)
    assert len(seen) == N_KEYS


def test_wg_genkey_moat_pubkey(moat_bin):
    need("wg")
    for _ in range(N_KEYS):
        priv = run(["wg", "genkey"]).stdout
        assert run([moat_bin, "wg", "pubkey"], input=priv).stdout == \
            run(["wg", "pubkey"], input=priv).stdout


def test_unclamped_keys(moat_bin):
    """Keys not made by genkey (random bytes): wg clamps before it
    multiplies, so must moat."""
    need("wg")
    for _ in range(N_KEYS):
        priv = base64.b64encode(secrets.token_bytes(32)) + b"\n"
        assert run([moat_bin, "wg", "pubkey"], input=priv).stdout == \
            run(["wg", "pubkey"], input=priv).stdout


def test_genpsk(moat_bin):
    need("wg")
    psks = {run([moat_bin, "wg", "genpsk"]).stdout for _ in range(N_KEYS)}
    assert len(psks) == N_KEYS
    for psk in psks:
        decode(psk.strip().decode())
        # wg reads it as a key too
        run(["wg", "pubkey"], input=psk)


@pytest.mark.parametrize("tail", [b"", b"\n", b"\r\n", b" \t\n\n", b"\0"])
def test_pubkey_trailing_blanks(moat_bin, tail):
    need("wg")
    priv = run(["wg", "genkey"]).stdout.strip() + tail
    assert run([moat_bin, "wg", "pubkey"], input=priv).stdout == \
        run(["wg", "pubkey"], input=priv).stdout


@pytest.mark.parametrize("bad", [
    b"", b"\n", b"short\n", b"KEY x\n", b"KEYx", b" KEY\n", b"KEY\nKEY\n",
    b"A" * 43 + b"\n", b"/" * 43 + b"=\n", b"A" * 42 + b"*=\n",
])
def test_pubkey_rejects(moat_bin, bad):
    """What wg pubkey refuses, moat wg pubkey refuses too: exit 1."""
    need("wg")
    bad = bad.replace(b"KEY", run(["wg", "genkey"]).stdout.strip())
    assert run(["wg", "pubkey"], input=bad, check=False).returncode == 1
    r = run([moat_bin, "wg", "pubkey"], input=bad, check=False)
    assert r.returncode == 1 and r.stdout == b""
    assert b"moat wg pubkey:" in r.stderr


def test_usage(moat_bin):
    assert run([moat_bin, "wg"], check=False).returncode == 2
    assert run([moat_bin, "wg", "nope"], check=False).returncode == 2
    assert run([moat_bin, "wg", "genkey", "x"], check=False).returncode == 2
    assert run([moat_bin, "wg", "import"], check=False).returncode == 2
    r = run([moat_bin, "wg", "import", "/nonexistent/wg0.conf"], check=False)
    assert r.returncode == 2 and b"/nonexistent/wg0.conf" in r.stderr
    assert b"moat wg import" in run([moat_bin, "help", "wg"]).stdout


# --- wg-quick files ---------------------------------------------------------

SERVER_CONF = """\
# The office VPN, as wg-quick runs it
[Interface]
PrivateKey = {priv}
Address = 10.8.0.1/24, fd42:42::1/64
ListenPort = 51820
DNS = 10.8.0.1, office.example
MTU = 1420
PostUp = iptables -A FORWARD -i %i -j ACCEPT
PostDown = iptables -D FORWARD -i %i -j ACCEPT

### Client alice
[Peer]
PublicKey = {alice}
PresharedKey = {psk}
AllowedIPs = 10.8.0.2/32, fd42:42::2/128

[Peer]
# Name = bob-phone
PublicKey = {bob}
AllowedIPs = 10.8.0.3/32
Endpoint = 198.51.100.7:51820
PersistentKeepalive = 25
"""


def keys(moat_bin):
    priv = run([moat_bin, "wg", "genkey"]).stdout
    return priv.strip().decode(), \
        run([moat_bin, "wg", "pubkey"], input=priv).stdout.strip().decode()


def test_import_then_check(moat_bin, tmp_path):
    priv, _ = keys(moat_bin)
    conf = tmp_path / "wg0.conf"
    conf.write_text(SERVER_CONF.format(
        priv=priv, alice=keys(moat_bin)[1], bob=keys(moat_bin)[1],
        psk=run([moat_bin, "wg", "genpsk"]).stdout.strip().decode()))
    r = run([moat_bin, "wg", "import", str(conf)])
    hcl = r.stdout.decode()
    err = r.stderr.decode()
    assert f"{conf}:6:17: warning: DNS search domain" in err
    assert f"{conf}:8:10: warning: PostUp is not run by moat: iptables" in err
    assert f"{conf}:9:12: warning: PostDown" in err
    assert 'wireguard "wg0" {' in hcl and 'peer "alice" {' in hcl
    assert 'peer "bob-phone" {' in hcl and f'"{priv}"' in hcl
    out = tmp_path / "moat.hcl"
    out.write_text(hcl)
    r = run([moat_bin, "check", "-c", str(out)], check=False)
    assert r.returncode == 0, r.stderr.decode()

    # --name, and a name that is no interface name
    r = run([moat_bin, "wg", "import", str(conf), "--name", "office"])
    assert 'wireguard "office"' in r.stdout.decode()
    r = run([moat_bin, "wg", "import", "--name", "a/b", str(conf)],
            check=False)
    assert r.returncode == 1 and r.stdout == b""
    assert b'interface name "a/b"' in r.stderr


def test_import_errors(moat_bin, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[Interface]\nListenPort = 51820\n"
                    "PrivateKey = not-a-key\n[Peer]\nAllowedIPs = 10.0.0.1/32"
                    "\nFoo = bar\n")
    r = run([moat_bin, "wg", "import", str(conf)], check=False)
    assert r.returncode == 1 and r.stdout == b""
    err = r.stderr.decode().splitlines()
    assert err == [
        f"{conf}:3:14: error: PrivateKey is not a 44-character base64 key "
        "(as `wg genkey` prints)",
        f"{conf}:4:1: error: [Peer] has no PublicKey",
        f'{conf}:6:1: error: unknown key "Foo"',
    ]


def parse_conf(text):
    """A wg config as {section: [(key, value)]}, peers keyed by PublicKey,
    values normalized as wg showconf prints them."""
    out, cur = {"Interface": {}}, None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "[Interface]":
            cur = out["Interface"]
        elif line == "[Peer]":
            cur = {}
            out.setdefault("peers", []).append(cur)
        else:
            k, v = (s.strip() for s in line.split("=", 1))
            if k == "AllowedIPs":
                v = sorted(s.strip() for s in v.split(","))
            cur[k] = v
    return out


def test_client_conf_on_a_device(helper, netns_factory, tmp_path):
    """A client file (wg_quick_client) through the real wg-quick strip
    and wg setconf on a wireguard-go device: wg showconf gives back every
    value of it."""
    for tool in ("wg", "wg-quick", "wireguard-go"):
        need(tool)
    dev = "mq" + secrets.token_hex(5)
    sock = Path("/var/run/wireguard") / f"{dev}.sock"
    text = run([helper, "--client"]).stdout.decode()
    text = text.replace("vpn.example.org:51820", "192.0.2.1:51820")
    conf = tmp_path / f"{dev}.conf"
    conf.write_text(text)
    conf.chmod(0o600)
    stripped = run(["wg-quick", "strip", str(conf)]).stdout.decode()
    for k in ("Address", "DNS", "MTU"):
        assert f"{k} =" in text and f"{k} =" not in stripped
    (tmp_path / "stripped.conf").write_text(stripped)

    ns = netns_factory().add("wg")
    try:
        go = ns.spawn("env", WG_GO_ENV, "wireguard-go", "-f", dev,
                      log=tmp_path / "wireguard-go.log")
        poll(lambda: sock.exists() or go.poll() is not None,
             what="wireguard-go's socket")
        assert go.poll() is None, (tmp_path / "wireguard-go.log").read_text()
        ns.run("wg", "setconf", dev, tmp_path / "stripped.conf")
        shown = parse_conf(ns.run("wg", "showconf", dev).stdout)
    finally:
        ns.delete()
        if sock.exists():
            sock.unlink()
    want = parse_conf(text)
    assert shown["Interface"]["PrivateKey"] == \
        want["Interface"]["PrivateKey"]
    assert shown["peers"] == want["peers"]
    assert set(want["peers"][0]) == {"PublicKey", "PresharedKey",
                                      "Endpoint", "AllowedIPs",
                                      "PersistentKeepalive"}


# --- QR codes ---------------------------------------------------------------

def test_qr_text_as_qrencode(helper):
    need("qrencode")
    for n in range(3):
        text = run([helper, "--client"]).stdout
        text = text[:len(text) - n * 40]      # three sizes of code
        for ours, theirs in (([], "UTF8"), (["--ansi"], "ANSIUTF8")):
            assert run([helper, "--qr-text", *ours], input=text).stdout == \
                run(["qrencode", "-t", theirs], input=text).stdout


def test_qr_png_reads_back(helper, tmp_path):
    """zbarimg (zbar-tools) reads the PNG back to the client file."""
    need("zbarimg")
    for width in (0, 200, 1000):
        text = run([helper, "--client"]).stdout
        png = tmp_path / f"qr{width}.png"
        png.write_bytes(run([helper, "--qr-png", str(width)],
                            input=text).stdout)
        r = run(["zbarimg", "--quiet", "--raw", str(png)])
        # zbarimg ends what it read with a newline of its own
        assert r.stdout[:-1] == text
