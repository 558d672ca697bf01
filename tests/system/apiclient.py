"""An HTTP client for moat's REST API inside a network namespace.

Python's http.client is the client; only its socket is made differently:
in a short-lived thread that joins the namespace (setns(2) changes the
calling thread only), so the test process itself never leaves its own
namespace. The socket keeps the namespace it was made in.

    c = Client("moat-ns-gw", "127.0.0.1", 18080)
    st, hdrs, body = c.request("GET", "/health")
    c.login("admin", "pw")          # keeps the cookie and the CSRF token
    c.token = "moat_..."            # or a Bearer token
"""
import ctypes
import http.client
import json
import os
import socket
import ssl
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def ns_socket(ns, host, port, timeout=10.0):
    """A TCP socket connected to host:port from namespace ns."""
    out = {}

    def work():
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            s = socket.create_connection((host, port), timeout=timeout)
            out["sock"] = s
        except Exception as e:  # handed to the caller
            out["err"] = e

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if "err" in out:
        raise out["err"]
    return out["sock"]


class _Conn(http.client.HTTPConnection):
    def __init__(self, ns, host, port, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ns = ns

    def connect(self):
        self.sock = ns_socket(self._ns, self.host, self.port, self.timeout)


class _TLSConn(http.client.HTTPSConnection):
    def __init__(self, ns, host, port, timeout):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        super().__init__(host, port, timeout=timeout, context=ctx)
        self._ns = ns

    def connect(self):
        raw = ns_socket(self._ns, self.host, self.port, self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


class Client:
    """One client: a cookie jar of one cookie, a CSRF token, or a token."""

    def __init__(self, ns, host, port, tls=False, timeout=30.0):
        self.ns, self.host, self.port, self.tls = ns, host, port, tls
        self.timeout = timeout
        self.cookie = None
        self.csrf = None
        self.token = None
        self.last_headers = {}

    def raw(self, method, path, body=None, headers=None):
        """(status, headers dict lowercased, body bytes); no credentials
        added but those in headers."""
        cls = _TLSConn if self.tls else _Conn
        c = cls(self.ns, self.host, self.port, self.timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {}
            for k, v in r.getheaders():
                k = k.lower()
                hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
            return r.status, hdrs, data
        finally:
            c.close()

    def request(self, method, path, body=None, headers=None, csrf=True):
        """A request with this client's credentials: the Bearer token, or
        the session cookie (and X-CSRF-Token unless csrf is False). A
        dict or list body is sent as JSON. Returns (status, headers, body
        parsed as JSON when it is JSON, else bytes)."""
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        elif self.cookie:
            h["Cookie"] = "moat_session=" + self.cookie
            if csrf and self.csrf and method not in ("GET", "HEAD"):
                h["X-CSRF-Token"] = self.csrf
        st, hdrs, data = self.raw(method, path, body, h)
        self.last_headers = hdrs
        if hdrs.get("content-type", "").startswith("application/json"):
            data = json.loads(data)
        return st, hdrs, data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def setup(self, user, password):
        return self.raw("POST", "/api/setup/create-admin",
                        json.dumps({"username": user,
                                    "password": password}),
                        {"Content-Type": "application/json"})

    def login(self, user, password):
        st, hdrs, data = self.raw(
            "POST", "/api/auth/login",
            json.dumps({"username": user, "password": password}),
            {"Content-Type": "application/json"})
        if st == 200:
            cookie = hdrs["set-cookie"].split(";")[0]
            name, _, value = cookie.partition("=")
            assert name == "moat_session"
            self.cookie = value
            self.csrf = json.loads(data)["csrf_token"]
        return st, hdrs, data

    def new_token(self, name, role):
        """Creates an API token (this client must be an admin) and returns
        its value."""
        st, _, data = self.post("/api/tokens", {"name": name, "role": role})
        assert st == 201, data
        return data["token"]
