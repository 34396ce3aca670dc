"""The server against strangers (issue 14, item 4): a request without a valid key is answered on its
headers, before its body is read, so a flood of unauthenticated large bodies keeps the server's
memory bounded; failed keys are rate-limited per client with 429 and Retry-After; the connection
count is capped."""
import socket
import threading
import time

from conftest import Client, Server, create_key, run_cli

BODY = 32 * 1024 * 1024  # the default body limit


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def post_headers(port, path, length, key=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}"
              f"Content-Length: {length}\r\n\r\n".encode())
    return s


def read_status(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    line = data.split(b"\r\n", 1)[0].decode()
    return int(line.split()[1]) if line else 0, data.decode(errors="replace")


def test_an_unauthenticated_request_is_refused_before_its_body_is_sent(data_dir):
    run_cli("migrate", data=data_dir)
    srv = Server(data_dir).start()
    try:
        s = post_headers(srv.port, "/api/v1/events", BODY)
        status, head = read_status(s)  # no byte of the body was sent
        assert status == 401, head
        assert "WWW-Authenticate" in head
        s.close()
    finally:
        srv.stop()


def test_a_flood_of_unauthenticated_large_bodies_keeps_memory_bounded(data_dir):
    run_cli("migrate", data=data_dir)
    # A generous failure budget, so this test measures memory, not the 429 path.
    srv = Server(data_dir, env={"RAPPORT_SERVER_AUTH_FAILURES_PER_MINUTE": "100000"}).start()
    try:
        before = rss_kib(srv.proc.pid)
        chunk = b"x" * (1 << 20)

        def flood():
            s = post_headers(srv.port, "/api/v1/events", BODY, key="rk_live_wrong")
            try:
                for _ in range(BODY // len(chunk)):
                    s.sendall(chunk)
            except OSError:
                pass  # the server answered and closed: what we want
            finally:
                s.close()

        threads = [threading.Thread(target=flood) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        peak = rss_kib(srv.proc.pid, "VmHWM")
        # Buffering the bodies would take 16 x 32 MiB = 512 MiB; the server reads them into a
        # 16 KiB scratch buffer and drops them.
        assert peak - before < 64 * 1024, f"RSS grew from {before} KiB to a peak of {peak} KiB"
        assert Client(srv.base).get("/healthz").status == 200
    finally:
        srv.stop()


def test_failed_keys_are_rate_limited_per_client_with_retry_after(data_dir):
    run_cli("migrate", data=data_dir)
    key = create_key(data_dir, "read", "reader")
    srv = Server(data_dir, env={"RAPPORT_SERVER_AUTH_FAILURES_PER_MINUTE": "5"}).start()
    try:
        c = Client(srv.base)
        statuses = [c.get("/api/v1/contacts", key="rk_live_guess%d" % i).status for i in range(6)]
        assert statuses == [401] * 5 + [429], statuses
        r = c.get("/api/v1/contacts", key="rk_live_guess")
        assert r.status == 429
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["code"] == "too_many_requests"
        # While refused, even a good key from this address waits: guessing cannot go on in parallel.
        assert c.get("/api/v1/contacts", key=key).status == 429
    finally:
        srv.stop()


def test_connections_over_the_cap_are_closed(data_dir):
    run_cli("migrate", data=data_dir)
    srv = Server(data_dir, env={"RAPPORT_SERVER_MAX_CONNECTIONS": "4"}).start()
    try:
        held = []
        for _ in range(4):  # each answered once, so the server has surely accepted it; kept alive
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_status(s)[0] == 200
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        extra.settimeout(10)
        try:
            got = extra.recv(100)
        except ConnectionResetError:
            got = b""
        assert got == b"", got
        for s in held:
            s.close()
        time.sleep(0.5)
        assert Client(srv.base).get("/healthz").status == 200
        assert "refusing new ones" in srv.read_log()
    finally:
        srv.stop()
