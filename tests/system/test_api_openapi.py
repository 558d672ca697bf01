"""GET /api/openapi.json: an OpenAPI 3.0 document that kin-openapi (an
independent implementation, tests/openapi/validate.go) loads and
validates, that names every route the server answers, and whose every
path docs/api.md documents. The namespaces and ctl are test_ctl.py's
`ctl` fixture."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from apiclient import Client
from conftest import poll
from test_ctl import BASE, ctl  # noqa: F401 (ctl: the fixture)

PORT = 18091
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    out = tmp_path_factory.mktemp("oav") / "validate"
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
               GOCACHE=str(out.parent / "cache"), GOFLAGS="")
    subprocess.run(["go", "build", "-o", str(out),
                    str(ROOT / "tests/openapi/validate.go")],
                   check=True, env=env, capture_output=True)
    return out


def test_openapi_document_is_valid_and_complete(ctl, validator, tmp_path):
    ctl.write(BASE + f'api {{\n  listen = "127.0.0.1:{PORT}"\n}}\n')
    ctl.start()
    c = Client(ctl.gw.name, "127.0.0.1", PORT)
    poll(lambda: c.raw("GET", "/health")[0] == 200, 10, what="api")
    # public: no credentials, before setup
    st, hdrs, doc = c.get("/api/openapi.json")
    assert st == 200 and doc["openapi"].startswith("3.0")
    f = tmp_path / "openapi.json"
    f.write_text(json.dumps(doc))
    r = subprocess.run([str(validator), str(f)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    paths = doc["paths"]
    # the routes this test knows the server has are all there
    for path, method in (("/health", "get"), ("/api/auth/login", "post"),
                         ("/api/tokens/{token}", "delete"),
                         ("/api/config/staged", "put"),
                         ("/api/openapi.json", "get")):
        assert method in paths.get(path, {}), (path, sorted(paths))
    # every operation the document names is one the server routes: a
    # made-up credential gets 401/428 or an answer, never 404/405
    for path, ops in paths.items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in ops:
            st, _, body = c.raw(method.upper(), concrete)
            # with a made-up parameter, a 404 may be the thing's
            if not path.count("{"):
                assert st not in (404, 405), (method, path, st, body)
            assert st != 405, (method, path, body)
    # and docs/api.md documents each path
    docs = (ROOT / "docs/api.md").read_text()
    norm = re.sub(r"\{[^}]*\}", "{}", docs)
    missing = [p for p in paths
               if re.sub(r"\{[^}]*\}", "{}", p).rstrip("/") not in norm]
    assert not missing, f"not in docs/api.md: {missing}"
    # public routes say so; the others name both credentials
    assert paths["/health"]["get"]["security"] == []
    assert "security" not in paths["/api/status"]["get"]
    assert {"bearerAuth", "cookieAuth"} <= set(
        doc["components"]["securitySchemes"])
