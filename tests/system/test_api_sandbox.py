"""moat api: its sandbox and its HTTP(S), with this test playing ctl and
curl (or socat) as the client.

    +------------------ netns moat-apisb-PID-N (lo up) ------------------+
    |                                                                    |
    |  this test ("ctl")                      moat api                   |
    |    listening socket 127.0.0.1:PORT ---fd 4--> MHD   (its own new,  |
    |    socketpair end  <------- RPC ------fd 3--> loop   empty netns;  |
    |      answers {"method":"health"}                     chroot ROOT;  |
    |    [HTTPS: socket 127.0.0.1:TPORT, cert.pem,         nobody;       |
    |     key.pem ----------- fds N:C:K --> MHD+GnuTLS     seccomp)      |
    |                                                                    |
    |  curl http://127.0.0.1:PORT/health ---------------->               |
    |  curl --cacert cert.pem https://127.0.0.1:TPORT/health -->         |
    +--------------------------------------------------------------------+

The listening socket is made inside the test's namespace (the test's main
thread enters it with setns(2) for a moment), so curl run there reaches it
even though api itself has moved to a namespace of its own. api is started
from inside the namespace too, as ctl does: fork+exec with the socketpair
on fd 3 and the listening sockets on fd 4 on. For HTTPS the test makes
a self-signed certificate for 127.0.0.1 with openssl and passes the PEM
files as plain read-only fds (ctl passes sealed memfds; api reads either
the same way).

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


def open_high(path):
    """path opened read-only on an fd of 10 or above (see high_fds)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    finally:
        os.close(fd)


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
    """One moat api, its namespace, root, sockets and log. n_listen plain
    HTTP listeners, then one HTTPS listener per (cert, key) file pair in
    tls."""

    def __init__(self, tmp_path, n_listen=1, tls=()):
        self.ns = Netns(f"moat-apisb-{os.getpid()}-{next(_seq)}")
        self.root = str(tmp_path / "api-root")  # api creates it
        self.log = tmp_path / "api.log"
        self.listeners, self.ports = [], []
        self.tls_ports = []
        self.proc = None
        self.ctl = None
        self.n_listen = n_listen
        self.tls = list(tls)

    def start(self, argv_extra=(), serving=True):
        """Starts api; waits until every listener serves, unless serving
        is false (api is to refuse to start)."""
        self.ns.create()
        with inside(self.ns.name):
            for i in range(self.n_listen + len(self.tls)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", 0))
                s.listen(64)
                self.listeners.append(s)
                port = s.getsockname()[1]
                (self.ports if i < self.n_listen else
                 self.tls_ports).append(port)
            ours, theirs = socket.socketpair(socket.AF_UNIX,
                                             socket.SOCK_STREAM)
            self.proc = self._spawn(theirs, argv_extra)
        theirs.close()
        self.ctl = FakeCtl(ours)
        want = len(self.listeners)
        if not serving:
            return self
        poll(lambda: self._check_alive() and
             self.stderr().count("api: serving HTTP") == want,
             timeout=10, what="api serving")
        return self

    def args(self):
        """api's options for the fds _spawn() puts on 3, 4, ...: the
        socketpair, the plain listeners, then N:C:K for each HTTPS one."""
        args = ["--rpc-fd", "3"]
        fd = 4
        for _ in range(self.n_listen):
            args += ["--listen-fd", str(fd)]
            fd += 1
        for _ in self.tls:
            args += ["--tls-listen-fd", f"{fd}:{fd + 1}:{fd + 2}"]
            fd += 3
        return args

    def _spawn(self, rpc, argv_extra):
        # as ctl does it: the socketpair on fd 3, listening sockets on 4...
        # (each HTTPS one followed by its certificate and key); the
        # shell's copies of the originals are what api must close
        fds = []
        try:
            fds += high_fds([rpc] + self.listeners[:self.n_listen])
            for s, pem in zip(self.listeners[self.n_listen:], self.tls):
                fds += high_fds([s]) + [open_high(path) for path in pem]
            cmd = (f'root=$1; shift; exec "$0" api {" ".join(self.args())} '
                   f'--root "$root" "$@" {redirs(fds)}')
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
        return self._curl(url, opts)

    def curl_tls(self, path="/health", *opts, port=None):
        """curl over HTTPS to the first HTTPS listener (or port), trusting
        only the test's certificate."""
        url = f"https://127.0.0.1:{port or self.tls_ports[0]}{path}"
        return self._curl(url, ("--cacert", self.tls[0][0]) + opts)

    def _curl(self, url, opts):
        r = self.ns.run("curl", "-s", "--max-time", "5", "-o", "-",
                        "-w", "\n%{http_code}", *opts, url, check=False)
        body, _, code = r.stdout.rpartition("\n")
        return r.returncode, int(code or 0), body

    def status(self):
        """/proc/PID/status of api as a dict."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f)

    def fds(self):
        """api's open fds: {number: what /proc says it is}."""
        d = f"/proc/{self.proc.pid}/fd"
        return {int(fd): os.readlink(f"{d}/{fd}") for fd in os.listdir(d)}

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
    assert code == 404 and json.loads(body) == {"code": "not_found",
                                                "message": "no such path"}
    rc, code, body = api.curl("/health", "-X", "POST", "-d", "x=1")
    assert code == 405, body
    assert json.loads(body)["code"] == "method_not_allowed"
    rc, code, body = api.curl("/health", "-I")
    assert code == 200 and "content-length" in body.lower()


def assert_sandboxed(a, socks):
    """a's api runs in its cage, holding no socket but socks (the ones it
    was given; no connection is open) and no file but stdio."""
    st = a.status()
    assert st["Seccomp"] == "2"
    assert st["NoNewPrivs"] == "1"
    nobody = pwd.getpwnam("nobody")
    assert st["Uid"].split() == [str(nobody.pw_uid)] * 4
    assert st["Gid"].split() == [str(nobody.pw_gid)] * 4
    assert st["Groups"].strip() == ""
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
    pid = a.proc.pid
    # its own network namespace: neither the test's nor the host's
    theirs = os.stat(f"/proc/{pid}/ns/net").st_ino
    assert theirs != os.stat(f"/run/netns/{a.ns.name}").st_ino
    assert theirs != os.stat("/proc/self/ns/net").st_ino
    # chrooted to the root it created: root's, 0755, empty
    assert os.readlink(f"/proc/{pid}/root") == a.root
    st_root = os.stat(a.root)
    assert st_root.st_uid == 0 and st_root.st_mode & 0o022 == 0
    assert os.listdir(a.root) == []
    assert SELFCHECK in a.stderr()
    # the shell's copies of the sockets were closed, and so were the
    # certificates and keys once read: beyond stdio, only sockets and
    # MHD's and api's own anonymous fds (epoll, eventfd, signalfd)
    fds = a.fds()
    assert sorted(fd for fd, what in fds.items()
                  if what.startswith("socket:")) == socks
    assert [what for fd, what in fds.items() if fd > 2 and
            not what.startswith(("socket:", "anon_inode:"))] == []


def test_sandbox(api):
    assert_sandboxed(api, [3, 4])


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


# ---- HTTPS ----

def make_pem(d):
    """A self-signed certificate for 127.0.0.1 and its key, in d."""
    d.mkdir(exist_ok=True)
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
         "/CN=moat-test", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture
def pem(tmp_path):
    return make_pem(tmp_path / "pem")


@pytest.fixture
def tls_api(tmp_path, pem):
    a = Api(tmp_path, n_listen=0, tls=[pem])
    try:
        yield a.start()
    finally:
        a.stop()


def test_tls_health(tls_api):
    rc, code, body = tls_api.curl_tls("/health", "-i")
    assert (rc, code) == (0, 200), body
    head, _, payload = body.partition("\n\n")
    assert json.loads(payload) == {"status": "ok", "ctl": True}
    assert "content-type: application/json" in head.lower()
    # TLS 1.2 too (curl speaks 1.3 by default)
    rc, code, body = tls_api.curl_tls("/health", "--tls-max", "1.2")
    assert (rc, code) == (0, 200), body
    rc, code, body = tls_api.curl_tls("/nope")
    assert code == 404, body
    port = tls_api.tls_ports[0]
    assert f"api: serving HTTPS on 127.0.0.1:{port}" in tls_api.stderr()


def test_tls_and_plain_together(tmp_path, pem):
    a = Api(tmp_path, n_listen=1, tls=[pem, pem])
    try:
        a.start()
        rc, code, body = a.curl()
        assert (rc, code) == (0, 200), body
        for port in a.tls_ports:
            rc, code, body = a.curl_tls(port=port)
            assert (rc, code) == (0, 200), body
            assert json.loads(body) == {"status": "ok", "ctl": True}
        # each port speaks what it was given, and only that
        rc, _, _ = a.curl(port=a.tls_ports[0])
        assert rc != 0
        rc, _, _ = a.curl_tls(port=a.ports[0])
        assert rc != 0
        log = a.stderr()
        assert log.count("serving HTTP on 127.0.0.1:") == 1
        assert log.count("serving HTTPS on 127.0.0.1:") == 2
    finally:
        a.stop()


def test_tls_sandbox(tls_api):
    """The same cage, and the certificate's and key's fds are closed."""
    assert_sandboxed(tls_api, [3, 4])
    rc, code, _ = tls_api.curl_tls()
    assert (rc, code) == (0, 200)
    assert_sandboxed(tls_api, [3, 4])


def memory_holds(pid, needle):
    """Whether any writable mapping of process pid holds needle."""
    with open(f"/proc/{pid}/maps") as f:
        maps = [line.split() for line in f]
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for m in maps:
            if not m[1].startswith("rw"):
                continue
            lo, hi = (int(x, 16) for x in m[0].split("-"))
            try:
                mem.seek(lo)
                if needle in mem.read(hi - lo):
                    return True
            except OSError:
                continue
    return False


def test_tls_key_wiped(tls_api, pem):
    """Once api serves, the PEM of its key is nowhere in its memory (GnuTLS
    keeps the key it decoded, which it must). Two lines of it with the
    newline between them: only a verbatim copy has that."""
    rc, code, _ = tls_api.curl_tls()
    assert (rc, code) == (0, 200)
    lines = open(pem[1]).read().splitlines()
    needle = (lines[1] + "\n" + lines[2][:16]).encode()
    pid = tls_api.proc.pid
    # the method works: api's argv is on its stack
    assert memory_holds(pid, b"--tls-listen-fd\x004:5:6")
    assert not memory_holds(pid, needle)
    assert lines[1] not in tls_api.stderr()


def test_tls_plain_http_to_tls_port(tls_api):
    port = tls_api.tls_ports[0]
    rc, _, _ = tls_api.curl(port=port)
    assert rc in (52, 56), rc   # empty reply, or reset
    rc, code, body = tls_api.curl_tls()
    assert (rc, code) == (0, 200), body
    assert tls_api.proc.poll() is None


def test_tls_garbage_handshake(tls_api, tmp_path):
    port = tls_api.tls_ports[0]
    garbage = {
        "random": os.urandom(70_000),
        # a handshake record that claims 16 kB and ends at once
        "short-record": b"\x16\x03\x01\x40\x00" + b"\x01" * 100,
        # a ClientHello whose lengths point past its end
        "bad-hello": b"\x16\x03\x01\x00\x30\x01\x00\xff\xff\x03\x03" +
                     os.urandom(43),
        "zeros": b"\x00" * 4096,
    }
    for name, data in garbage.items():
        f = tmp_path / f"garbage-{name}"
        f.write_bytes(data)
        tls_api.ns.run("sh", "-c", f"socat -t 1 - TCP:127.0.0.1:{port} "
                       f"< {f}", check=False)
        assert tls_api.proc.poll() is None, name
    rc, code, body = tls_api.curl_tls()
    assert (rc, code) == (0, 200), body


def test_tls_many_connections_then_sigterm(tls_api):
    """50 TLS connections at once, closed together, give tens of kB per
    connection back to the workers' heaps; glibc's first trim of such a
    heap opens a /proc file, which the sandbox must refuse without
    killing api (it did, during serving or at exit)."""
    port = tls_api.tls_ports[0]
    urls = []
    for i in range(50):   # curl takes one -o per URL
        urls += ["-o", "/dev/null", f"https://127.0.0.1:{port}/health?{i}"]
    for _ in range(2):
        r = tls_api.ns.run("curl", "-s", "-Z", "--parallel-max", "50",
                           "--max-time", "10", "--cacert", tls_api.tls[0][0],
                           "-w", "%{http_code}\n", *urls,
                           check=False)
        assert r.returncode == 0 and r.stdout.split() == ["200"] * 50, \
            r.stdout
        assert tls_api.proc.poll() is None, tls_api.stderr()
    tls_api.proc.send_signal(signal.SIGTERM)
    assert tls_api.wait() == 0, tls_api.stderr()


def refused(a):
    """Starts api expecting it to refuse: (exit status, stderr)."""
    a.start(serving=False)
    return a.wait(), a.stderr()


@pytest.mark.parametrize("which", [0, 1])
def test_tls_key_not_the_certificates(tmp_path, pem, which):
    """A key that is not the certificate's: exit 1 before anything is
    served, even when only the second HTTPS listener has it."""
    other = make_pem(tmp_path / "other")
    tls = [pem, (pem[0], other[1])] if which else [(pem[0], other[1])]
    a = Api(tmp_path, n_listen=1, tls=tls)
    try:
        rc, log = refused(a)
        bad = 5 + 3 * which
        assert rc == 1, log
        assert f"api: tls listener {bad}: the certificate or key was " \
            "refused" in log
        assert "serving" not in log and "sandbox:" not in log
        for path in (pem[1], other[1]):
            assert open(path).read().splitlines()[1] not in log
    finally:
        a.stop()


@pytest.mark.parametrize("case", ["empty", "not-pem", "nul", "too-big",
                                  "cert-as-key"])
def test_tls_bad_pem(tmp_path, pem, case):
    cert, key = pem
    bad = tmp_path / "bad.pem"
    data, want = {
        "empty": (b"", "the key (fd 6) is empty"),
        "not-pem": (b"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n",
                    "the key (fd 6) is not PEM (no -----BEGIN)"),
        "nul": (open(key, "rb").read().replace(b"\n", b"\0", 1),
                "the key (fd 6) holds a NUL byte"),
        "too-big": (b"-----BEGIN" + b"A" * (1 << 20),
                    "the key (fd 6) is over 1048576 bytes"),
        "cert-as-key": (open(cert, "rb").read(),
                        "the certificate or key was refused"),
    }[case]
    bad.write_bytes(data)
    a = Api(tmp_path, n_listen=0, tls=[(cert, str(bad))])
    try:
        rc, log = refused(a)
        assert rc == 1, log
        assert f"api: tls listener 4: {want}" in log
        assert "serving" not in log
    finally:
        a.stop()


def test_tls_pem_at_the_limit(tmp_path, pem):
    """A chain of exactly 1 MiB (padded with blank lines) is taken."""
    cert = tmp_path / "big.pem"
    data = open(pem[0], "rb").read()
    cert.write_bytes(data + b"\n" * ((1 << 20) - len(data)))
    a = Api(tmp_path, n_listen=0, tls=[(str(cert), pem[1])])
    try:
        a.start()
        rc, code, body = a.curl_tls()
        assert (rc, code) == (0, 200), body
    finally:
        a.stop()


@pytest.mark.parametrize("args,want", [
    ("--tls-listen-fd 4:5", "takes N:C:K"),
    ("--tls-listen-fd 4:5:6:7", "takes N:C:K"),
    ("--tls-listen-fd 4:5:x", "bad fd 'x'"),
    ("--tls-listen-fd 4::6", "bad fd ''"),
    ("--tls-listen-fd 4:2:6", "bad fd '2'"),
    ("--tls-listen-fd 4:4:6", "fd 4 given twice"),
    ("--listen-fd 5 --tls-listen-fd 4:5:6", "fd 5 given twice"),
    ("--tls-listen-fd 4:5:6 --tls-listen-fd 7:8:6", "fd 6 given twice"),
    ("--tls-listen-fd 4:5:6 --listen-fd 6", "fd 6 given twice"),
    ("--tls-listen-fd 3:5:6", "fd 3 given twice"),
])
def test_tls_usage_errors(args, want):
    r = subprocess.run([moat_binary(), "api", "--rpc-fd", "3",
                        *args.split()], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2, r.stderr
    assert want in r.stderr


def test_tls_socket_as_certificate(tmp_path, pem):
    """C and K must be files: a socket there is refused (exit 1)."""
    root = tmp_path / "root"
    root.mkdir(mode=0o755)
    a, b = socket.socketpair()
    c = socket.socket()
    c.bind(("127.0.0.1", 0))
    c.listen(1)
    fds = high_fds([a, c, b]) + [open_high(pem[1])]
    try:
        r = subprocess.run(
            ["bash", "-c", f'exec "$0" api --rpc-fd 3 --tls-listen-fd '
             f'4:5:6 --root "$1" {redirs(fds)}', moat_binary(), str(root)],
            pass_fds=fds, capture_output=True, text=True, timeout=10)
        assert r.returncode == 1, r.stderr
        assert "--tls-listen-fd 4: the certificate, fd 5, is a socket" \
            in r.stderr
        assert "serving" not in r.stderr
    finally:
        for fd in fds:
            os.close(fd)
        for s in (a, b, c):
            s.close()
