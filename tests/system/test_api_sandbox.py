"""moat api: its sandbox and its HTTP, with this test playing ctl and curl
(or socat) as the client.

    +------------------ netns moat-apisb-PID-N (lo up) ------------------+
    |                                                                    |
    |  this test ("ctl")                      moat api                   |
    |    listening socket 127.0.0.1:PORT ---fd 4--> MHD   (its own new,  |
    |    socketpair end  <------- RPC ------fd 3--> loop   empty netns;  |
    |      answers {"method":"health"}                     chroot ROOT;  |
    |                                                      nobody;       |
    |  curl http://127.0.0.1:PORT/health --------------->  seccomp)      |
    +--------------------------------------------------------------------+

The listening socket is made inside the test's namespace (the test's main
thread enters it with setns(2) for a moment), so curl run there reaches it
even though api itself has moved to a namespace of its own. api is started
from inside the namespace too, as ctl does: fork+exec with the socketpair
on fd 3 and the listening socket on fd 4.

Every test makes its own namespace and api root and removes them in
teardown, even when it fails; api is killed by its PID. Nothing touches
the host namespace.

Run as root: MOAT=$PWD/build/moat python3 -m pytest tests/system/test_api_sandbox.py
"""
import contextlib
import ctypes
import fcntl
import itertools
import json
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import Netns, moat_binary, poll

CLONE_NEWNET = 0x40000000
SELFCHECK = "api: sandbox: socket(AF_INET) refused (EPERM)"
_seq = itertools.count()
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


@contextlib.contextmanager
def inside(ns_name):
    """Runs the block with this thread in network namespace ns_name:
    sockets made and processes started there belong to it."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{ns_name}", os.O_RDONLY)
    try:
        _setns(there)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(there)
        os.close(home)


def frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


def high_fds(socks):
    """Copies of socks' fds at 10 or above, so that moving them to 3, 4...
    in the child never overwrites one not yet moved."""
    return [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
            for s in socks]


def redirs(fds):
    """sh redirections putting fds on 3, 4, ... in order."""
    return " ".join(f"{3 + i}<&{fd}" for i, fd in enumerate(fds))


class FakeCtl:
    """ctl's end of the socketpair: reads api's requests and answers
    "health" (after `delay` seconds) while `answering` is set. Sends an
    event before each answer: api must ignore it."""

    def __init__(self, sock):
        self.sock = sock
        self.answering = threading.Event()
        self.answering.set()
        self.delay = 0.0
        self.requests = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                n = struct.unpack(">I", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                msg = json.loads(buf[4:4 + n])
                buf = buf[4 + n:]
                self.requests.append(msg)
                if self.answering.is_set():
                    time.sleep(self.delay)
                    try:
                        self.sock.sendall(
                            frame({"event": "test", "data": {}}) +
                            frame({"id": msg["id"],
                                   "result": {"status": "ok"}}))
                    except OSError:
                        return

    def close(self):
        """What api sees when ctl dies: EOF on the socketpair."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class Api:
    """One moat api, its namespace, root, sockets and log."""

    def __init__(self, tmp_path, n_listen=1):
        self.ns = Netns(f"moat-apisb-{os.getpid()}-{next(_seq)}")
        self.root = str(tmp_path / "api-root")  # api creates it
        self.log = tmp_path / "api.log"
        self.listeners, self.ports = [], []
        self.proc = None
        self.ctl = None
        self.n_listen = n_listen

    def start(self, argv_extra=()):
        self.ns.create()
        with inside(self.ns.name):
            for _ in range(self.n_listen):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", 0))
                s.listen(64)
                self.listeners.append(s)
                self.ports.append(s.getsockname()[1])
            ours, theirs = socket.socketpair(socket.AF_UNIX,
                                             socket.SOCK_STREAM)
            self.proc = self._spawn(theirs, argv_extra)
        theirs.close()
        self.ctl = FakeCtl(ours)
        poll(lambda: self._check_alive() and "serving HTTP" in self.stderr(),
             timeout=10, what="api serving")
        return self

    def _spawn(self, rpc, argv_extra):
        # as ctl does it: the socketpair on fd 3, listening sockets on 4...;
        # the shell's copies of the originals are what api must close
        fds = high_fds([rpc] + self.listeners)
        listen = " ".join(f"--listen-fd {4 + i}"
                          for i in range(len(self.listeners)))
        cmd = (f'root=$1; shift; exec "$0" api --rpc-fd 3 {listen} '
               f'--root "$root" "$@" {redirs(fds)}')
        try:
            with open(self.log, "wb") as log:
                return subprocess.Popen(
                    ["bash", "-c", cmd, moat_binary(), self.root,
                     *argv_extra],
                    pass_fds=fds, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT)
        finally:
            for fd in fds:
                os.close(fd)

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"api exited {self.proc.returncode}:\n"
                                 f"{self.stderr()}")
        return True

    def stderr(self):
        return self.log.read_text(errors="replace")

    def curl(self, path="/health", *opts, port=None):
        """curl in the test's namespace: (exit status, HTTP status, body)."""
        url = f"http://127.0.0.1:{port or self.ports[0]}{path}"
        r = self.ns.run("curl", "-s", "--max-time", "5", "-o", "-",
                        "-w", "\n%{http_code}", *opts, url, check=False)
        body, _, code = r.stdout.rpartition("\n")
        return r.returncode, int(code or 0), body

    def status(self):
        """/proc/PID/status of api as a dict."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f)

    def wait(self, timeout=10):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.ctl:
            self.ctl.close()
        for s in self.listeners:
            s.close()
        self.ns.delete()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def api(tmp_path):
    a = Api(tmp_path)
    try:
        yield a.start()
    finally:
        a.stop()


def test_health_ok(api):
    rc, code, body = api.curl("/health", "-i")
    assert rc == 0 and code == 200, body
    head, _, payload = body.partition("\n\n")  # text mode: no \r
    assert json.loads(payload) == {"status": "ok", "ctl": True}
    assert "content-type: application/json" in head.lower()
    req = api.ctl.requests[-1]
    assert req["method"] == "health" and req["params"] == {}
    assert isinstance(req["id"], int)


def test_health_degraded_when_ctl_is_silent(api):
    api.ctl.answering.clear()
    t0 = time.monotonic()
    rc, code, body = api.curl()
    assert (rc, code) == (0, 503), body
    assert json.loads(body) == {"status": "degraded", "ctl": False}
    assert time.monotonic() - t0 < 4  # the RPC times out after 1 s
    # ctl is back: the next answer is matched by id, not by turn
    api.ctl.answering.set()
    rc, code, body = api.curl()
    assert (rc, code) == (0, 200), body
    assert "health: ctl does not answer" in api.stderr()


def test_not_found_and_methods(api):
    rc, code, body = api.curl("/nope")
    assert code == 404 and json.loads(body) == {"code": 404,
                                                "message": "not found"}
    rc, code, body = api.curl("/health", "-X", "POST", "-d", "x=1")
    assert code == 405, body
    assert json.loads(body)["code"] == 405
    rc, code, body = api.curl("/health", "-I")
    assert code == 200 and "content-length" in body.lower()


def test_sandbox(api):
    st = api.status()
    assert st["Seccomp"] == "2"
    assert st["NoNewPrivs"] == "1"
    nobody = pwd.getpwnam("nobody")
    assert st["Uid"].split() == [str(nobody.pw_uid)] * 4
    assert st["Gid"].split() == [str(nobody.pw_gid)] * 4
    assert st["Groups"].strip() == ""
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
    pid = api.proc.pid
    # its own network namespace: neither the test's nor the host's
    theirs = os.stat(f"/proc/{pid}/ns/net").st_ino
    assert theirs != os.stat(f"/run/netns/{api.ns.name}").st_ino
    assert theirs != os.stat("/proc/self/ns/net").st_ino
    # chrooted to the root it created: root's, 0755, empty
    assert os.readlink(f"/proc/{pid}/root") == api.root
    st_root = os.stat(api.root)
    assert st_root.st_uid == 0 and st_root.st_mode & 0o022 == 0
    assert os.listdir(api.root) == []
    assert SELFCHECK in api.stderr()
    # the only sockets it holds are the two it was given (the shell's
    # copies of them were closed); no connection is open yet
    socks = sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd")
                   if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(
                       "socket:"))
    assert socks == [3, 4]


def test_ctl_eof_exits_0(api):
    api.ctl.close()
    assert api.wait() == 0
    assert "ctl closed the RPC channel" in api.stderr()


def test_sigterm_exits_0_and_leaves_the_socket_listening(api):
    api.proc.send_signal(signal.SIGTERM)
    assert api.wait() == 0
    # ctl still holds the listening socket: a connection waits in the
    # backlog for the next api (curl times out, 28) instead of being
    # refused (7)
    rc, code, _ = api.curl("/health", "--max-time", "1")
    assert rc == 28, rc


def test_sigterm_finishes_requests_in_flight(api):
    api.ctl.delay = 0.5
    n = len(api.ctl.requests)
    client = subprocess.Popen(
        api.ns.argv("curl", "-s", "--max-time", "5", "-w", "\n%{http_code}",
                    f"http://127.0.0.1:{api.ports[0]}/health"),
        stdout=subprocess.PIPE, text=True)
    try:
        poll(lambda: len(api.ctl.requests) > n, what="the health RPC")
        api.proc.send_signal(signal.SIGTERM)
        out, _ = client.communicate(timeout=10)
    finally:
        if client.poll() is None:
            client.kill()
    assert out.rsplit("\n", 1)[-1] == "200", out
    assert api.wait() == 0


def test_sigterm_serves_a_connection_accepted_before_it(api):
    """A client that connected but had not sent its request yet when
    SIGTERM came still gets its answer, and is told to go elsewhere."""
    with inside(api.ns.name):
        c = socket.create_connection(("127.0.0.1", api.ports[0]), timeout=5)
    try:
        pid = api.proc.pid
        # accepted: api holds a third socket
        poll(lambda: sum(os.readlink(f"/proc/{pid}/fd/{fd}").startswith(
            "socket:") for fd in os.listdir(f"/proc/{pid}/fd")) == 3,
            what="api accepting the connection")
        api.proc.send_signal(signal.SIGTERM)
        poll(lambda: "no new connections" in api.stderr(), what="SIGTERM")
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while True:
            data = c.recv(4096)
            if not data:
                break
            reply += data
    finally:
        c.close()
    head = reply.decode(errors="replace").lower()
    assert head.startswith("http/1.1 200"), reply
    assert "connection: close" in head
    assert api.wait() == 0


def test_malformed_http(api):
    garbage = b"\x00\xff\xfe GARBAGE \x01\x02\r\n\x7f\r\n\r\n"
    api.ns.run("socat", "-t", "2", "-", f"TCP:127.0.0.1:{api.ports[0]}",
               check=False, input=garbage.decode("latin-1"))
    api.ns.run("sh", "-c", f"head -c 200000 /dev/urandom | socat -t 1 - "
               f"TCP:127.0.0.1:{api.ports[0]}", check=False)
    # a head bigger than a connection's 32 kB
    _, code, _ = api.curl("/health", "-H", "X-Big: " + "a" * 100_000)
    assert code == 431
    _, code, _ = api.curl("/" + "a" * 100_000)
    assert code == 414
    rc, code, body = api.curl()
    assert (rc, code) == (0, 200), body
    assert api.proc.poll() is None


def test_several_listening_sockets(tmp_path):
    a = Api(tmp_path, n_listen=2)
    try:
        a.start()
        for port in a.ports:
            rc, code, body = a.curl(port=port)
            assert (rc, code) == (0, 200), body
        assert a.stderr().count("serving HTTP on 127.0.0.1:") == 2
    finally:
        a.stop()


@pytest.mark.parametrize("case", ["not-listening", "root-user",
                                  "root-not-empty"])
def test_refuses_to_start(tmp_path, case):
    """Exit 1 with a line that says what is wrong, before serving."""
    root = tmp_path / "root"
    root.mkdir(mode=0o755)
    a, b = socket.socketpair()
    c = socket.socket()
    if case != "not-listening":
        c.bind(("127.0.0.1", 0))
        c.listen(1)
    extra = "--user root" if case == "root-user" else ""
    if case == "root-not-empty":
        (root / "file").write_text("x")
    want = {"not-listening": "--listen-fd 4 is not listening",
            "root-user": "user 'root' is root",
            "root-not-empty": f"{root} is not empty"}[case]
    fds = high_fds([a, c])
    try:
        r = subprocess.run(
            ["bash", "-c", f'exec "$0" api --rpc-fd 3 --listen-fd 4 --root '
             f'"$1" {extra} {redirs(fds)}', moat_binary(), str(root)],
            pass_fds=fds, capture_output=True, text=True, timeout=10)
        assert r.returncode == 1, r.stderr
        assert want in r.stderr
        assert "serving" not in r.stderr
    finally:
        for fd in fds:
            os.close(fd)
        for s in (a, b, c):
            s.close()
