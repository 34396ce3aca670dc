"""Durability of tracking hits (issue 16, item 10) through the whole binary. With the hit log (the
default) a hit is answered only after it was written to the hit log, and the next start loads what
a kill -9 left there; without it (`[tracking] hit_log = false`), only after the transaction holding
its event committed. Either way a kill -9 loses no answered hit, and a SIGTERM lets the hits in
flight finish and be stored before the process exits.
"""
import http.client
import os
import signal
import sqlite3
import threading
import time

import pytest

from conftest import Server, wait_for
from test_tracking import BROWSER, PUBLIC, TEMPLATE, local, pixel, send, start

CLIENTS = 6


def hammer(srv, path, stop, answered, errors):
    """Keep-alive GETs of `path` until `stop` is set or the server goes away; counts the 200s
    whose whole body was read (an answered hit)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        while not stop.is_set():
            conn.request("GET", path, headers={"User-Agent": BROWSER})
            r = conn.getresponse()
            body = r.read()
            if r.status == 200 and body.startswith(b"GIF89a"):
                with answered[1]:
                    answered[0] += 1
            elif r.status != 200:
                errors.append(r.status)
            if r.getheader("Connection", "").lower() == "close":
                return
    except (OSError, http.client.HTTPException):
        return  # the server died or closed: whatever was not answered does not count
    finally:
        conn.close()


def stored_opens(data_dir):
    db = sqlite3.connect(str(data_dir / "rapport.db"))
    try:
        return db.execute("SELECT count(*) FROM events WHERE name = 'email_opened'").fetchone()[0]
    finally:
        db.close()


def pending_hit_log_bytes(srv):
    """The hit log's bytes not yet loaded (None without a hit log)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith("rapport_tracking_hit_log_unloaded_bytes "):
            return int(line.split()[1])
    return None


def restart_and_load(data_dir, env):
    """Starts rapport again on the data (it loads what the hit log holds) and waits until loaded."""
    srv = Server(data_dir, env=env).start()
    wait_for(lambda: pending_hit_log_bytes(srv) in (0, None), timeout=120, what="the hit log loaded")
    return srv


ENV = {
    "RAPPORT_SENDER_FROM": "Tea Shop <hello@shop.example>",
    "RAPPORT_SERVER_PUBLIC_URL": PUBLIC,
    "RAPPORT_SERVER_TRUST_FORWARDED_FOR": "true",
    "RAPPORT_SERVER_PUBLIC_REQUESTS_PER_SECOND": "100000",
}
MODES = {"hit_log": {}, "group_commit": {"RAPPORT_TRACKING_HIT_LOG": "false"}}


def prepare(data_dir, **env):
    srv, api = start(data_dir, **env)
    assert api.post("/api/v1/templates", TEMPLATE).status == 201
    cid = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()["id"]
    _, body, _, _ = send(api, data_dir, cid)
    return srv, api, local(srv, pixel(body))


def run_clients(srv, path):
    stop = threading.Event()
    answered = [0, threading.Lock()]
    errors = []
    threads = [threading.Thread(target=hammer, args=(srv, path, stop, answered, errors)) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    return stop, answered, errors, threads


def kill_9_under_load(srv, path, at_least):
    """Clients hit the pixel until at least `at_least` hits are answered, then the server gets
    SIGKILL; returns the number of hits answered (every client error fails the test)."""
    stop, answered, errors, threads = run_clients(srv, path)
    wait_for(lambda: answered[0] >= at_least, timeout=120, what=f"{at_least} answered hits")
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join(timeout=60)
    srv.stop()
    assert errors == []
    return answered[0]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_no_answered_pixel_hit_is_lost_across_a_kill_9(data_dir, mode):
    srv, _, path = prepare(data_dir, **MODES[mode])
    before = stored_opens(data_dir)
    answered = kill_9_under_load(srv, path, 200)
    # The next start loads what the hit log holds (in group-commit mode everything is stored already).
    srv = restart_and_load(data_dir, {**ENV, **MODES[mode]})
    stored = stored_opens(data_dir) - before
    srv.stop()
    # Every answered hit is stored; at most the hits in flight (one per client) are stored unanswered.
    assert stored >= answered, (stored, answered)
    assert stored <= answered + CLIENTS, (stored, answered)


def test_repeated_kill_9s_under_load_store_every_answered_hit_once(data_dir):
    """Kills at random moments, the loader's included (between a commit and the deletion of the
    file it loaded, among others): after each restart every answered hit is stored, and none twice
    beyond the hits in flight at each kill."""
    srv, _, path = prepare(data_dir)
    before = stored_opens(data_dir)
    total = 0
    for round_ in range(4):
        total += kill_9_under_load(srv, path, 100 + 37 * round_)
        srv = restart_and_load(data_dir, ENV)
        stored = stored_opens(data_dir) - before
        assert stored >= total, (round_, stored, total)
        assert stored <= total + CLIENTS * (round_ + 1), (round_, stored, total)
    srv.stop()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_sigterm_answers_and_commits_the_hits_in_flight_then_exits_cleanly(data_dir, mode):
    srv, _, path = prepare(data_dir, **MODES[mode])
    before = stored_opens(data_dir)
    stop, answered, errors, threads = run_clients(srv, path)
    wait_for(lambda: answered[0] >= 100, timeout=120, what="100 answered hits")
    assert srv.stop(signal.SIGTERM) == 0
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    stored = stored_opens(data_dir) - before
    assert stored >= answered[0], (stored, answered[0])
    assert stored <= answered[0] + CLIENTS, (stored, answered[0])
