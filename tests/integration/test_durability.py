"""A SIGTERM in the middle of a 100k-event ingest loses no acknowledged event."""
import json
import os
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request

from conftest import Server

TOTAL = 100_000
BATCH = 1_000
WRITERS = 4


def post_batch(base, key, batch_no):
    events = [{"name": "page_viewed", "email": f"visitor{(batch_no * BATCH + i) % 5000}@example.com",
               "idempotency_key": f"k{batch_no}-{i}", "properties": {"n": batch_no * BATCH + i}}
              for i in range(BATCH)]
    req = urllib.request.Request(f"{base}/api/v1/events", data=json.dumps({"events": events}).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {key}",
                                                         "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        body = json.loads(r.read())
        assert r.status == 202 and body["accepted"] + body["duplicates"] == BATCH, body


def test_sigterm_during_ingest_keeps_every_acknowledged_event(server):
    acked = []
    lock = threading.Lock()
    next_batch = [0]
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            with lock:
                b = next_batch[0]
                if b >= TOTAL // BATCH:
                    return
                next_batch[0] += 1
            try:
                post_batch(server.base, server.admin_key, b)
            except (urllib.error.URLError, ConnectionError, OSError, AssertionError):
                return  # the server went away: this batch was not acknowledged
            with lock:
                acked.append(b)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    # Let a good part of the ingest happen, then ask the server to stop.
    deadline = time.time() + 300
    while time.time() < deadline:
        with lock:
            if len(acked) >= 20:
                break
        time.sleep(0.05)
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(timeout=120)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    assert server.proc.returncode == 0, server.read_log()
    assert len(acked) >= 20, "too few batches were acknowledged before the stop"

    # Read what it wrote: every acknowledged key is in the database.
    db = sqlite3.connect(os.path.join(str(server.data), "rapport.db"))
    stored = db.execute("SELECT COUNT(*) FROM events WHERE name = 'page_viewed'").fetchone()[0]
    # Idempotency keys live beside the log, each naming the event it admitted.
    keys = {row[0] for row in db.execute(
        "SELECT k.key FROM event_keys k JOIN events e ON e.id = k.event_id")}
    missing = [f"k{b}-{i}" for b in acked for i in range(BATCH) if f"k{b}-{i}" not in keys]
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:5]}"
    assert stored >= len(acked) * BATCH

    # And the server comes back with the same data.
    again = Server(server.data).start()
    try:
        req = urllib.request.Request(f"{again.base}/api/v1/contacts?limit=1",
                                     headers={"Authorization": f"Bearer {server.admin_key}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200
    finally:
        again.stop()
