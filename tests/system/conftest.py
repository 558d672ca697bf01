"""Fixtures for moat's system tests: network namespaces joined by veth
pairs, and real tools (ping, curl, nc, socat, python3 -m http.server, nft)
run inside them.

Everything a test creates is named after this run's PID and a counter, lives
only inside its own namespaces, and is removed in teardown even when the
test fails: every process started through Netns.spawn is killed by its PID
(its own process group), then the namespaces are deleted. Nothing here
touches the host namespace's links, routes, sysctls or firewall; veth pairs
are created from inside a namespace and their peer is moved straight into
another one, so no link ever exists in the host namespace.

Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns`).
"""
import atexit
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_seq = itertools.count()


def moat_binary():
    """The moat under test: $MOAT, else build/moat of this checkout."""
    p = Path(os.environ.get("MOAT") or REPO / "build" / "moat").resolve()
    if not os.access(p, os.X_OK):
        pytest.fail(f"moat binary not found: {p} (set MOAT=path/to/moat)")
    return str(p)


def poll(pred, timeout=5.0, step=0.02, what="condition"):
    """Calls pred until it returns something true; fails after timeout.
    For waiting on a state (a listener, a log line), never as a delay."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{what}")
        time.sleep(step)


_resolv = []


def local_resolver():
    """A resolv.conf naming 127.0.0.1, where nothing listens in our
    namespaces: a lookup fails at once instead of waiting on the host's
    nameserver through a gateway that may drop it (python's http.server
    looks up the name of the address it binds)."""
    if not _resolv:
        fd, path = tempfile.mkstemp(prefix="moat-test-resolv-")
        os.write(fd, b"nameserver 127.0.0.1\noptions attempts:1\n")
        os.close(fd)
        atexit.register(os.unlink, path)
        _resolv.append(path)
    return _resolv[0]


class Netns:
    """One network namespace, with lo up. Commands run in it through
    `ip netns exec`, which execs the command: the PID of what spawn()
    returns is the tool itself."""

    def __init__(self, name):
        self.name = name
        self.procs = []
        self.created = False

    def create(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.created = True
        self.run("ip", "link", "set", "lo", "up")
        return self

    def argv(self, *argv):
        return ["ip", "netns", "exec", self.name, *map(str, argv)]

    def run(self, *argv, check=True, timeout=30, input=None, env=None):
        """Runs argv in the namespace; returns the CompletedProcess (text)."""
        r = subprocess.run(self.argv(*argv), capture_output=True, text=True,
                           timeout=timeout, input=input, env=env)
        if check and r.returncode != 0:
            raise AssertionError(
                f"[{self.name}] {' '.join(map(str, argv))} exited "
                f"{r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def spawn(self, *argv, log=None):
        """Starts a background process in its own process group; it is
        killed (by PID) when the namespace is deleted. Output goes to log
        (a path), else nowhere. It sees local_resolver() as
        /etc/resolv.conf (a bind mount in the mount namespace `ip netns
        exec` makes for it alone) and is exec'd: its PID is the tool's."""
        wrap = ("sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
                local_resolver())
        out = open(log, "wb") if log else subprocess.DEVNULL
        try:
            p = subprocess.Popen(self.argv(*wrap, *argv),
                                 stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        finally:
            if log:
                out.close()
        self.procs.append(p)
        return p

    def listening(self, port, proto="tcp"):
        """Whether a socket listens on port (tcp) or is bound to it (udp)."""
        flag = "-ltnH" if proto == "tcp" else "-lunH"
        r = self.run("ss", flag, f"sport = :{port}", check=False)
        return r.returncode == 0 and r.stdout.strip() != ""

    def wait_listen(self, port, proto="tcp", proc=None, timeout=5.0):
        def ready():
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"[{self.name}] listener on {port} "
                                     f"exited {proc.returncode}")
            return self.listening(port, proto)
        poll(ready, timeout, what=f"[{self.name}] {proto} port {port}")

    def sysctl(self, key, value=None):
        path = "/proc/sys/" + key.replace(".", "/")
        if value is not None:
            self.run("sh", "-c", f"echo {value} > {path}")
        return self.run("cat", path).stdout.strip()

    def nft_json(self, *what):
        """`nft -j list ...` in the namespace, parsed; default the ruleset."""
        r = self.run("nft", "-j", "list", *(what or ("ruleset",)))
        return json.loads(r.stdout)

    def nft_text(self, *what):
        return self.run("nft", "list", *(what or ("ruleset",))).stdout

    def has_table(self, family, name):
        r = self.run("nft", "list", "table", family, name, check=False)
        return r.returncode == 0

    def stop(self, proc):
        """Kills one process started by spawn (its process group, by PID)."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)

    def delete(self):
        for p in self.procs:
            try:
                self.stop(p)
            except Exception:  # teardown goes on whatever one did
                pass
        self.procs = []
        if self.created:
            # and what moat started there (wireguard-go, its supervisor):
            # every process in this namespace is this test's
            r = subprocess.run(["ip", "netns", "pids", self.name],
                               capture_output=True, text=True)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", self.name],
                           capture_output=True)
            self.created = False


class Topology:
    """Namespaces by role, the veth links between them, torn down as one."""

    def __init__(self, tag):
        self.tag = tag
        self.ns = {}

    def add(self, role):
        # registered before it exists, so that teardown sees a half-made one
        ns = self.ns[role] = Netns(f"moat{os.getpid()}-{self.tag}-{role}")
        return ns.create()

    def link(self, a, a_if, a_addr, b, b_if, b_addr):
        """A veth pair a_if (in a) -- b_if (in b), created inside a with
        its peer moved into b at once, addresses given as CIDR."""
        na, nb = self.ns[a], self.ns[b]
        na.run("ip", "link", "add", a_if, "type", "veth", "peer", "name",
               b_if, "netns", nb.name)
        for ns, ifname, addr in ((na, a_if, a_addr), (nb, b_if, b_addr)):
            ns.run("ip", "addr", "add", addr, "dev", ifname)
            ns.run("ip", "link", "set", ifname, "up")

    def __getattr__(self, role):
        ns = self.__dict__.get("ns", {})
        if role in ns:
            return ns[role]
        raise AttributeError(role)

    def delete(self):
        for ns in self.ns.values():
            ns.delete()


@pytest.fixture
def moat_bin():
    return moat_binary()


@pytest.fixture(scope="session", autouse=True)
def moat_run_dir(tmp_path_factory):
    """moat apply notes each apply in $MOAT_RUN_DIR (default /run/moat);
    the tests keep those notes in a directory of their own, removed with
    pytest's temporary files, instead of leaving them on the machine."""
    d = tmp_path_factory.mktemp("moat-run")
    old = os.environ.get("MOAT_RUN_DIR")
    os.environ["MOAT_RUN_DIR"] = str(d)
    yield d
    if old is None:
        del os.environ["MOAT_RUN_DIR"]
    else:
        os.environ["MOAT_RUN_DIR"] = old


@pytest.fixture
def netns_factory():
    """Makes empty Topology objects, each named apart by a counter, and
    deletes them (processes, then namespaces) at teardown, whatever the
    test did."""
    made = []

    def make():
        t = Topology(f"{next(_seq)}")
        made.append(t)
        return t

    yield make
    for t in made:
        t.delete()


# The gateway topology (drawn at the top of test_fw.py).
WAN_HOST, WAN_GW = "203.0.113.2", "203.0.113.1"
LAN_HOST, LAN_GW = "192.168.50.2", "192.168.50.1"
DMZ_HOST, DMZ_GW = "10.0.60.10", "10.0.60.1"


@pytest.fixture
def gateway(netns_factory):
    """Four namespaces: gw with eth0 (wan) eth1 (lan) eth2 (dmz), and a wan
    host, a lan host, a dmz server, each on its eth0. The lan host and the
    dmz server route by default through the gateway; the wan host only has
    its own subnet, so it can answer the LAN only when the gateway
    masquerades. Forwarding starts off in the gateway (moat turns it on)."""
    t = netns_factory()
    for role in ("gw", "wan", "lan", "dmz"):
        t.add(role)
    t.link("gw", "eth0", f"{WAN_GW}/24", "wan", "eth0", f"{WAN_HOST}/24")
    t.link("gw", "eth1", f"{LAN_GW}/24", "lan", "eth0", f"{LAN_HOST}/24")
    t.link("gw", "eth2", f"{DMZ_GW}/24", "dmz", "eth0", f"{DMZ_HOST}/24")
    t.lan.run("ip", "route", "add", "default", "via", LAN_GW)
    t.dmz.run("ip", "route", "add", "default", "via", DMZ_GW)
    t.gw.sysctl("net.ipv4.ip_forward", 0)
    return t


def python3():
    """An interpreter for servers run in a namespace: this one."""
    return sys.executable or shutil.which("python3")


@pytest.fixture
def wgdev():
    """Names for wireguard-go devices, unique to this run; their UAPI
    sockets (in /var/run/wireguard, shared by every namespace) are removed
    at the end: the namespace's teardown kills wireguard-go with SIGKILL,
    which leaves them. Ask for it before `ctl`, so that it ends after."""
    names = []

    def make(prefix):
        names.append(f"{prefix}{os.getpid() % 100000}")
        return names[-1]
    yield make
    for name in names:
        try:
            os.unlink(f"/var/run/wireguard/{name}.sock")
        except FileNotFoundError:
            pass
