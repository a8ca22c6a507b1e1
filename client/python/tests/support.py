"""What the tests run against: real examples/server processes on a real
database, a local webhook receiver, a test CA, and the README's examples.

The tests need DATABASE_URL (a database, or a schema through search_path,
of their own) and SPARROW_SERVER_BIN (a built examples/server); run_tests.sh
provides both. Missing prerequisites fail the tests: nothing is skipped.

Servers listen on 127.0.0.1 with HTTP_PORT=0 and GRPC_PORT=0, so the kernel
picks free ports; the ports are read from the server's "sparrow serving" log
line. One plaintext and one TLS server are shared by the whole run and
stopped when it ends (also when the test process dies: they run under
setpriv --pdeathsig).
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import hmac
import http.server
import io
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import redirect_stdout
from typing import Callable, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # client/python
README = os.path.join(ROOT, "README.md")

#: The key every test server requires (SPARROW_API_KEY).
API_KEY = "py-test-" + secrets.token_hex(16)
#: A key limited to SCOPED_NAMESPACE (SPARROW_API_KEYS).
SCOPED_API_KEY = "py-scoped-" + secrets.token_hex(16)
SCOPED_NAMESPACE = "py-scoped"
#: The servers' portal secret (SPARROW_PORTAL_SECRET).
PORTAL_SECRET = secrets.token_hex(32)

#: How long the tests wait for a server, a delivery, a state.
TIMEOUT = 20.0
#: The deadline of single RPCs the tests make themselves.
RPC_TIMEOUT = 10.0

# Loopback traffic never goes through a proxy (gRPC and urllib honour these).
for _var in ("no_proxy", "NO_PROXY"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var, ""), "127.0.0.1", "localhost"]))


def require_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(
            f"{name} is not set: run the Python tests with `make test-python` from the repository root, "
            "or `go run ./internal/cmd/withpg -fresh-schema -- client/python/run_tests.sh`"
        )
    return value


def wait_for(check: Callable[[], object], what: str, timeout: float = TIMEOUT, interval: float = 0.05):
    """Calls check until it returns something true, and returns that; fails
    after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def unique(prefix: str) -> str:
    """A name no other test uses: event types are global and the servers
    share one database."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- Servers -----------------------------------------------------------------

_SERVING = re.compile(r'msg="sparrow serving" http=(\S+) grpc=(\S+)')


class Server:
    """A running examples/server."""

    def __init__(self, name: str, *, tls: Optional["CertificateAuthority"] = None):
        self.name = name
        self.tls = tls
        self.proc: Optional[subprocess.Popen] = None
        self.http_address = ""
        self.grpc_address = ""
        self._log: List[str] = []
        self._log_lock = threading.Lock()
        self._serving = threading.Event()

    @property
    def grpc_port(self) -> int:
        return int(self.grpc_address.rsplit(":", 1)[1])

    def log(self) -> str:
        with self._log_lock:
            return "".join(self._log[-60:])

    def start(self) -> "Server":
        binary = require_env("SPARROW_SERVER_BIN")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPARROW_")}
        env.update(
            DATABASE_URL=require_env("DATABASE_URL"),
            SPARROW_BIND="127.0.0.1",
            HTTP_PORT="0",
            GRPC_PORT="0",
            SPARROW_API_KEY=API_KEY,
            SPARROW_API_KEYS=f"{SCOPED_API_KEY}:{SCOPED_NAMESPACE}",
            SPARROW_PORTAL_SECRET=PORTAL_SECRET,
            SPARROW_ALLOW_PRIVATE_NETWORKS="true",
            SPARROW_SHUTDOWN_TIMEOUT="5s",
            RIVER_UI_PORT="off",
            LOG_LEVEL="info",
        )
        if self.tls:
            env.update(SPARROW_TLS_CERT_FILE=self.tls.server_cert, SPARROW_TLS_KEY_FILE=self.tls.server_key)
        cmd = [binary]
        setpriv = shutil.which("setpriv")
        if setpriv:  # util-linux: the server gets SIGTERM if this process dies
            cmd = [setpriv, "--pdeathsig", "TERM", "--", binary]
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._read_log, name=f"{self.name}-log", daemon=True).start()
        deadline = time.monotonic() + TIMEOUT
        while not self._serving.wait(0.05):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() >= deadline:
                self.stop()
                raise RuntimeError(f"{self.name} server did not start within {TIMEOUT:.0f}s:\n{self.log()}")
        wait_for(self._ready, f"{self.name} server's /ready", timeout=max(1.0, deadline - time.monotonic()))
        return self

    def _read_log(self) -> None:
        assert self.proc and self.proc.stderr
        for line in self.proc.stderr:
            with self._log_lock:
                self._log.append(line)
            match = _SERVING.search(line)
            if match and not self._serving.is_set():
                self.http_address, self.grpc_address = match.group(1), match.group(2)
                self._serving.set()

    def _ready(self) -> bool:
        scheme = "https" if self.tls else "http"
        handlers: list = [urllib.request.ProxyHandler({})]
        if self.tls:
            context = ssl.create_default_context(cafile=self.tls.ca_cert)  # the certificate names 127.0.0.1
            handlers.append(urllib.request.HTTPSHandler(context=context))
        try:
            with urllib.request.build_opener(*handlers).open(f"{scheme}://{self.http_address}/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


# --- Webhook receiver ----------------------------------------------------------


class Received:
    """A request the receiver got."""

    def __init__(self, path: str, headers: Dict[str, str], body: bytes, at: Optional[float] = None):
        self.path = path
        self.headers = headers  # lower-case names
        self.body = body
        self.at = time.monotonic() if at is None else at  # when it arrived

    def json(self):
        return json.loads(self.body)


class Receiver:
    """A local HTTP server that records every POST and answers it with 200,
    or with the status set for its path by answer()."""

    def __init__(self):
        self.requests: List[Received] = []
        self.statuses: Dict[str, int] = {}
        self._cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._cond:
                    receiver.requests.append(Received(self.path, headers, body))
                    receiver._cond.notify_all()
                    status = receiver.statuses.get(self.path, 200)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True).start()

    def answer(self, path: str, status: int) -> None:
        """Answers the requests to path with status from now on."""
        with self._cond:
            self.statuses[path] = status

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def wait(self, path: str, count: int = 1, timeout: float = TIMEOUT) -> List[Received]:
        """Waits until count requests reached path and returns them."""
        with self._cond:
            got = self._cond.wait_for(lambda: len(self.on(path)) >= count, timeout=timeout)
            if not got:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {count} request(s) to {path}; got {len(self.on(path))}")
            return self.on(path)

    def on(self, path: str) -> List[Received]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- TLS -------------------------------------------------------------------------


class CertificateAuthority:
    """A CA and a server certificate for localhost and 127.0.0.1, made with
    the openssl command."""

    def __init__(self, directory: str):
        openssl = shutil.which("openssl")
        if not openssl:
            raise RuntimeError("the openssl command is needed for the TLS tests (Debian: apt-get install openssl)")
        self.ca_cert = os.path.join(directory, "ca-cert.pem")
        self.server_cert = os.path.join(directory, "server-cert.pem")
        self.server_key = os.path.join(directory, "server-key.pem")
        ca_key = os.path.join(directory, "ca-key.pem")
        csr = os.path.join(directory, "server.csr")
        ext = os.path.join(directory, "server-ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for args in (
            ["req", "-x509", *ec, "-keyout", ca_key, "-out", self.ca_cert, "-days", "2", "-subj", "/CN=Sparrow test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", *ec, "-keyout", self.server_key, "-out", csr, "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", ca_key, "-set_serial", "2",
             "-out", self.server_cert, "-days", "2", "-extfile", ext],
        ):
            subprocess.run([openssl, *args], check=True, capture_output=True, timeout=30)

    def read_ca(self) -> bytes:
        with open(self.ca_cert, "rb") as f:
            return f.read()


# --- Shared fixtures ---------------------------------------------------------------

_shared: Dict[str, object] = {}
_shared_lock = threading.RLock()  # fixtures get other fixtures


def _cleanup() -> None:
    for key in ("tls_server", "server"):
        server = _shared.pop(key, None)
        if server is not None:
            server.stop()
    receiver = _shared.pop("receiver", None)
    if receiver is not None:
        receiver.close()
    tmp = _shared.pop("tmp", None)
    if tmp is not None:
        tmp.cleanup()


atexit.register(_cleanup)


def _get(key: str, make: Callable[[], object]):
    with _shared_lock:
        if key not in _shared:
            _shared[key] = make()
        return _shared[key]


def tmpdir() -> str:
    return _get("tmp", lambda: tempfile.TemporaryDirectory(prefix="sparrow-python-tests-")).name


def server() -> Server:
    """The shared plaintext (h2c) server; it requires API_KEY."""
    return _get("server", lambda: Server("plaintext").start())


def ca() -> CertificateAuthority:
    return _get("ca", lambda: CertificateAuthority(tmpdir()))


def tls_server() -> Server:
    """The shared TLS server, with ca()'s certificate; it requires API_KEY."""
    return _get("tls_server", lambda: Server("tls", tls=ca()).start())


def receiver() -> Receiver:
    return _get("receiver", Receiver)


# --- Standard Webhooks signatures ----------------------------------------------------


def signing_key(secret: str) -> bytes:
    """A secret's HMAC key: the base64 after "whsec_", else the secret's bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):], validate=True)
    return secret.encode()


def signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(signing_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signature_valid(secret: str, request: Received) -> bool:
    """Whether one of the request's webhook-signature values is secret's."""
    want = signature(secret, request.headers["webhook-id"], request.headers["webhook-timestamp"], request.body)
    return any(hmac.compare_digest(want, got) for got in request.headers["webhook-signature"].split())


# --- README examples ---------------------------------------------------------------------

_EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\n```python\n(.*?)```", re.S)


def readme_examples() -> Dict[str, str]:
    """The README's python blocks marked <!-- example: name -->, by name."""
    with open(README, encoding="utf-8") as f:
        found = _EXAMPLE.findall(f.read())
    examples = dict(found)
    if len(examples) != len(found):
        raise AssertionError("README.md: two examples share a name")
    return examples


def run_example(code: str, namespace: dict, replace: Optional[Dict[str, str]] = None) -> str:
    """Runs an example in namespace after replacing strings in it (each must
    occur), and returns what it printed."""
    for old, new in (replace or {}).items():
        if old not in code:
            raise AssertionError(f"{old!r} not in the example:\n{code}")
        code = code.replace(old, new)
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(code, "<README example>", "exec"), namespace)
    return out.getvalue()
