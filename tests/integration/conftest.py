"""Fixtures for whole-binary tests: they start the real `rapport` and talk to it over HTTP.

RAPPORT_BIN names the binary (CTest sets it); each test gets its own data directory.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rapport_bin():
    path = os.environ.get("RAPPORT_BIN", os.path.join(ROOT, "build", "debug", "rapport"))
    if not os.path.exists(path):
        pytest.fail(f"rapport binary not found at {path} (set RAPPORT_BIN)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, data, check=True, input=None, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([rapport_bin(), *args, "--data", str(data)], capture_output=True, text=True,
                          input=input, env=full_env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"rapport {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Client:
    def __init__(self, base, key=None):
        self.base = base
        self.key = key

    def request(self, method, path, body=None, key="default", headers=None, raw=None):
        hdrs = dict(headers or {})
        use_key = self.key if key == "default" else key
        if use_key:
            hdrs["Authorization"] = f"Bearer {use_key}"
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return Response(r.status, dict(r.headers), r.read().decode())
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read().decode())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class Server:
    """A running `rapport serve` on a free loopback port."""

    def __init__(self, data, extra_args=(), env=None):
        self.data = data
        self.port = free_port()
        self.extra_args = list(extra_args)
        self.env = env or {}
        self.proc = None
        self.log_path = os.path.join(str(data), "serve.log")

    def start(self):
        full_env = dict(os.environ)
        full_env.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [rapport_bin(), "serve", "--data", str(self.data), "--listen", f"127.0.0.1:{self.port}",
             *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=full_env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"rapport serve exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"rapport serve did not become healthy:\n{self.read_log()}")

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-5000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("rapport serve did not stop in time after SIGTERM")
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None


def wait_for(predicate, timeout=60, interval=0.1, what="condition"):
    """Polls predicate every interval seconds until it returns something true (returned), or fails
    the test after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_for_hits(base, timeout=30):
    """Until every open and click answered by the server at `base` is an event in the store: with
    the hit log ([tracking] hit_log, on by default) a hit is written to a file before its answer and
    loaded into the log moments later (docs/tracking.md). Returns at once without a hit log."""
    def metric(body, name):
        for line in body.splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
        return None

    def loaded():
        body = Client(base).get("/metrics").body
        written = metric(body, "rapport_tracking_hit_log_written_total")
        if written is None:
            return True
        return metric(body, "rapport_tracking_hit_log_loaded_total") + \
            metric(body, "rapport_tracking_hit_log_dropped_total") >= written
    wait_for(loaded, timeout=timeout, interval=0.02, what="the hit log's hits loaded into events")


def create_key(data, scope="admin", name="test"):
    out = run_cli("keys", "create", "--name", name, "--scope", scope, data=data).stdout
    lines = [l for l in out.splitlines() if l.strip()]
    assert lines, "keys create printed nothing"
    return lines[-1].strip()


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def server(data_dir):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    srv = Server(data_dir).start()
    srv.admin_key = admin
    yield srv
    srv.stop()


@pytest.fixture
def api(server):
    return Client(server.base, server.admin_key)
