"""moat lab, end to end: `up` with examples/home.hcl, real traffic through
the gateway, `exec` and `status`, and `down` leaving nothing behind, also
after a crash, an interrupted `up` and a failed apply.

                          +--------------------+
                          |        wan         |  lo 198.51.100.10/32
                          | http :80, dns :53  |  (http.server, dnsmasq)
                          +--------------------+
                                    | eth0 198.51.100.1/24
                                    |
                                    | eth0 198.51.100.2/24
    +-----------+ eth0     eth1 +--------+ eth2      eth0 +-----------+
    |   lan1    |---------------|   gw   |----------------|   lan2    |
    | 10.0.0.2  |     10.0.0.1  |  moat  |  10.0.20.1     | 10.0.20.2 |
    +-----------+               +--------+                +-----------+
                          eth3 /          \\ eth4
                 10.0.30.1    /            \\   10.0.50.1
                   +-----------+          +--------------------+
                   |   lan3    |          |        lan4        |
                   | 10.0.30.2 |          | 10.0.50.10 :80 :8080|
                   +-----------+          +--------------------+

The lab builds all of it (moat lab up); the tests only drive moat lab and
look with real tools (curl, ping, getent) inside its nodes. Every lab here
has its own MOAT_LAB_ID, so its namespaces are moat-lab-tPID-NODE and a
lab the user has up (make demo) is never touched; MOAT_RUN_DIR is the
session's temporary directory (conftest.py). Each test downs its lab in a
finally, whatever happened. Waiting is bounded polling; expected failures
use 2 s timeouts.
"""
import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, moat_binary, poll

LAB_ID = f"t{os.getpid() % 10000000}"
PREFIX = f"moat-lab-{LAB_ID}-"
NODES = ["gw", "wan", "lan1", "lan2", "lan3", "lan4"]
HOME = str(REPO / "examples" / "home.hcl")
INTERNET, GW_WAN, LAN1, DMZ = "198.51.100.10", "198.51.100.2", "10.0.0.2", \
    "10.0.50.10"
HELLO_INTERNET = f"moat lab: hello from the internet ({INTERNET})\n"


def env(extra=None):
    e = dict(os.environ, MOAT_LAB_ID=LAB_ID)
    e.update(extra or {})
    return e


def lab(*args, check=True, timeout=60, extra_env=None):
    r = subprocess.run([moat_binary(), "lab", *map(str, args)],
                       capture_output=True, text=True, timeout=timeout,
                       env=env(extra_env))
    if check and r.returncode != 0:
        raise AssertionError(f"moat lab {' '.join(map(str, args))} exited "
                             f"{r.returncode}\nstdout: {r.stdout}\n"
                             f"stderr: {r.stderr}")
    return r


def lab_dir():
    return Path(os.environ["MOAT_RUN_DIR"]) / "lab"


def namespaces():
    d = Path("/run/netns")
    return sorted(p.name for p in d.iterdir()
                  if p.name.startswith(PREFIX)) if d.exists() else []


def recorded():
    """(pid, starttime) of every process the lab recorded."""
    f = lab_dir() / "procs"
    if not f.exists():
        return []
    return [(int(l.split()[0]), int(l.split()[1]))
            for l in f.read_text().splitlines() if l.strip()]


def alive(pid, start):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0] != "Z" and int(fields[19]) == start


def lab_processes():
    """Processes whose command line names this lab's directory."""
    mark = str(lab_dir()).encode()
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if mark in (p / "cmdline").read_bytes():
                    found.append(int(p.name))
            except OSError:
                pass
    return found


def host_links():
    r = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                       check=True)
    return sorted(l.split(":")[1].strip() for l in r.stdout.splitlines())


def assert_clean():
    assert namespaces() == []
    assert not lab_dir().exists()
    assert lab_processes() == []


@pytest.fixture
def down_after():
    """Whatever a test does, its lab is gone afterwards."""
    try:
        yield
    finally:
        lab("down", check=False)


@pytest.fixture
def home(down_after):
    links = host_links()
    r = lab("up", "-c", HOME)
    yield r
    lab("down")
    assert host_links() == links, "the lab left a link in the host"


def fake_tool(tmp_path, name, script):
    """A stand-in for a tool the lab runs, first in PATH."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    f = d / name
    f.write_text("#!/bin/sh\n" + script + "\n")
    f.chmod(0o755)
    return {"PATH": f"{d}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


# --- up, traffic, exec, status ------------------------------------------------


def test_up_builds_the_nodes(home):
    assert namespaces() == sorted(PREFIX + n for n in NODES)
    assert "applied: table inet moat" in home.stdout
    for n in NODES:
        assert f"\n{n:<5} " in home.stdout
    # every server the lab started runs, in its node
    assert len(recorded()) == 7
    for pid, start in recorded():
        assert alive(pid, start)


def test_lan_reaches_the_internet_through_nat(home):
    r = lab("exec", "lan1", "curl", "-s", "--max-time", "5",
            f"http://{INTERNET}/")
    assert r.stdout == HELLO_INTERNET
    lab("exec", "lan1", "curl", "-s", "--max-time", "5",
        f"http://{INTERNET}/nat-check")
    log = lab_dir() / "log" / "wan-http-80.log"
    line = poll(lambda: next((l for l in log.read_text().splitlines()
                              if "GET /nat-check " in l), None),
                what="the request in the server's log")
    assert line.startswith(GW_WAN + " ")


def test_names_resolve_in_the_lab(home):
    r = lab("exec", "lan1", "getent", "hosts", "example.com")
    assert r.stdout.split()[0] == INTERNET


def test_internet_cannot_reach_the_lan(home):
    r = lab("exec", "wan", "curl", "-s", "--max-time", "2",
            f"http://{LAN1}/", check=False)
    assert r.returncode == 28, r  # dropped: lan1 serves port 80
    r = lab("exec", "lan1", "curl", "-s", "--max-time", "5",
            f"http://{LAN1}/")
    assert r.stdout == f"moat lab: hello from lan1 ({LAN1})\n"
    r = lab("exec", "wan", "ping", "-c", "1", "-W", "2", LAN1, check=False)
    assert r.returncode == 1


def test_port_forward(home):
    r = lab("exec", "wan", "curl", "-s", "--max-time", "5",
            f"http://{GW_WAN}/")
    assert r.stdout == f"moat lab: hello from lan4 ({DMZ})\n"


def test_exec_passes_the_exit_status(home):
    assert lab("exec", "lan2", "sh", "-c", "exit 7",
               check=False).returncode == 7
    r = lab("exec", "lan9", "true", check=False)
    assert r.returncode == 2
    assert "gw, wan, lan1, lan2, lan3, lan4" in r.stderr
    r = lab("exec", "lan1", "no-such-command-here", check=False)
    assert r.returncode == 127


def test_status(home):
    r = lab("status")
    for n in NODES:
        assert f"\n{n:<5} " in r.stdout
    assert "lan4  eth0 10.0.50.10/24" in r.stdout
    assert "http:8080" in r.stdout
    assert "firewall: ok" in r.stdout


# --- down, crashes, refusals ---------------------------------------------------


def test_down_leaves_nothing(down_after):
    lab("up", "-c", HOME)
    procs = recorded()
    assert procs and lab_processes()
    r = lab("down")
    assert "removed 6 namespaces" in r.stdout
    assert_clean()
    for pid, start in procs:
        assert not alive(pid, start)
    r = lab("down")
    assert "no lab was up" in r.stdout


def test_down_leaves_other_labs_alone(down_after):
    """With MOAT_LAB_ID set, the default lab's moat-lab-gw (here made by
    hand, with a process in it) is another lab's: down touches neither."""
    other = "moat-lab-gw"
    made = not Path(f"/run/netns/{other}").exists()  # else a user's lab
    if made:
        subprocess.run(["ip", "netns", "add", other], check=True)
    p = subprocess.Popen(["ip", "netns", "exec", other, "sleep", "300"])
    try:
        r = lab("down")
        assert "no lab was up" in r.stdout
        assert Path(f"/run/netns/{other}").exists()
        assert p.poll() is None
    finally:
        p.kill()
        p.wait()
        if made:
            subprocess.run(["ip", "netns", "del", other], check=False)


def test_down_after_a_crash(down_after):
    lab("up", "-c", HOME)
    procs = recorded()
    pid, start = procs[0]
    os.kill(pid, signal.SIGKILL)
    poll(lambda: not alive(pid, start), what="the killed server gone")
    assert "(exited)" in lab("status").stdout
    # without its directory, down finds everything through the namespaces
    subprocess.run(["rm", "-rf", str(lab_dir())], check=True)
    lab("down")
    assert namespaces() == []
    assert not lab_dir().exists()
    for pid, start in procs:
        assert not alive(pid, start)


def test_up_killed_midway(tmp_path, down_after):
    """up killed with SIGKILL while it waits for a server: down cleans."""
    path = fake_tool(tmp_path, "dnsmasq", "exec sleep 300")
    p = subprocess.Popen([moat_binary(), "lab", "up", "-c", HOME],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env(path))
    try:
        poll(lambda: any(len(l.split()) > 3 and l.split()[3] == "dns:53"
                         for l in ((lab_dir() / "procs").read_text()
                                   .splitlines()
                                   if (lab_dir() / "procs").exists()
                                   else [])),
             timeout=10, what="up waiting on dnsmasq")
    finally:
        p.kill()
        p.wait()
    procs = recorded()
    lab("down")
    assert_clean()
    for pid, start in procs:
        assert not alive(pid, start)


def test_up_interrupted_tears_down(tmp_path, down_after):
    path = fake_tool(tmp_path, "dnsmasq", "exec sleep 300")
    p = subprocess.Popen([moat_binary(), "lab", "up", "-c", HOME],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env(path))
    try:
        poll(lambda: len(recorded()) >= 2, timeout=10,
             what="up waiting on its servers")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130
    assert "interrupted; removing what was built" in err
    assert_clean()


def test_server_that_dies_tears_down(tmp_path, down_after):
    path = fake_tool(tmp_path, "dnsmasq", "echo 'no DNS today' >&2; exit 3")
    r = lab("up", "-c", HOME, check=False, extra_env=path)
    assert r.returncode == 1
    assert "wan dns:53 exited" in r.stderr
    assert "no DNS today" in r.stderr
    assert_clean()


def test_up_twice_is_refused(down_after):
    lab("up", "-c", HOME)
    before = recorded()
    r = lab("up", "-c", HOME, check=False)
    assert r.returncode == 2
    assert "moat lab down" in r.stderr
    # the lab that was up is untouched
    assert namespaces() == sorted(PREFIX + n for n in NODES)
    assert recorded() == before
    r = lab("exec", "lan1", "curl", "-s", "--max-time", "5",
            f"http://{INTERNET}/")
    assert r.stdout == HELLO_INTERNET


def test_failing_apply_tears_down(tmp_path, down_after):
    cfg = tmp_path / "bad.hcl"
    cfg.write_text("""
interface "eth0" {
  zone = "wan"
  dhcp = true
}
interface "eth1" {
  zone = "lan"
  ipv4 = ["10.0.0.1/24"]
}
nat "fwd" {
  type         = "dnat"
  in_interface = "eth0"
  proto        = "tcp"
  dest_port    = "80"
  to_ip        = "10.0.0.5"
  hairpin      = true
}
""")
    r = lab("up", "-c", cfg, check=False)
    assert r.returncode == 1
    assert "moat apply in gw failed" in r.stderr
    # moat's own message, naming the user's file
    assert f"{cfg}:16:" in r.stderr and "hairpin needs" in r.stderr
    assert_clean()


def test_bad_config_builds_nothing(tmp_path, down_after):
    cfg = tmp_path / "typo.hcl"
    cfg.write_text('interface "eth0" {\n  ipv5 = ["10.0.0.1/24"]\n}\n')
    r = lab("up", "-c", cfg, check=False)
    assert r.returncode == 1
    assert f"{cfg}:2:3: error" in r.stderr
    assert_clean()
