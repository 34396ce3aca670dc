"""The tracking hit log through the whole binary (issue 16, item 10; docs/tracking.md): an
answered hit is in a file under <data_dir>/hits before it is an event; the loader makes it an
event within moments and deletes the file; while the store refuses writes, the pixel still
answers and the hits wait in the files; an erasure leaves nothing of the contact in them.
"""
import glob
import os
import socket
import sqlite3
import time

from conftest import wait_for
from test_tracking import TEMPLATE, hit, local, pixel, send, start, timeline

MARK = "HitLogMarker/7.7 (erasure test)"


def hit_files_text(data_dir):
    text = b""
    for path in glob.glob(str(data_dir / "hits" / "*")):
        with open(path, "rb") as f:
            text += f.read()
    return text


def prepare(data_dir, email="ada@example.com"):
    srv, api = start(data_dir)
    assert api.post("/api/v1/templates", TEMPLATE).status == 201
    cid = api.post("/api/v1/contacts", {"email": email}).json()["id"]
    _, body, _, _ = send(api, data_dir, cid)
    return srv, api, cid, local(srv, pixel(body))


def test_answered_hits_become_events_and_the_files_are_deleted(data_dir):
    srv, api, cid, path = prepare(data_dir)
    for _ in range(25):
        status, _, body = hit(srv, path, ua=MARK)
        assert status == 200 and body.startswith(b"GIF89a")
    opens = wait_for(lambda: len(timeline(api, cid, "email_opened")) == 25 and timeline(api, cid, "email_opened"),
                     what="25 opens on the timeline")
    assert all(e["properties"]["user_agent"] == MARK for e in opens)
    # Loaded files are deleted: what is left is the current file, empty.
    wait_for(lambda: hit_files_text(data_dir) == b"", what="the hit log emptied")
    files = glob.glob(str(data_dir / "hits" / "*"))
    assert len(files) == 1 and os.path.basename(files[0]).startswith("hits-"), files
    assert oct(os.stat(data_dir / "hits").st_mode & 0o777) == "0o700"
    assert oct(os.stat(files[0]).st_mode & 0o777) == "0o600"
    srv.stop()


def test_pipelined_hits_on_one_connection_are_each_answered_and_recorded(data_dir):
    """The server's fast lane writes the hits of one read with one write(2) and answers them in
    order, then takes an API request on the same connection."""
    srv, api, cid, path = prepare(data_dir)
    one = f"GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: {MARK}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(one * 5 + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while got.count(b"HTTP/1.1 ") < 6 or not got.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            assert chunk, got
            got += chunk
    answers = got.split(b"HTTP/1.1 ")[1:]
    assert [a[:3] for a in answers] == [b"200"] * 6, got
    assert all(b"image/gif" in a for a in answers[:5]) and b'"ok"' in answers[5]
    wait_for(lambda: len(timeline(api, cid, "email_opened")) == 5, what="5 opens on the timeline")
    srv.stop()


def test_while_the_store_refuses_writes_hits_are_answered_and_wait_in_the_hit_log(data_dir):
    srv, api, cid, path = prepare(data_dir)
    db = sqlite3.connect(str(data_dir / "rapport.db"), timeout=30, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock: the loader cannot commit
    try:
        for _ in range(10):
            status, _, _ = hit(srv, path, ua=MARK)
            assert status == 200
        time.sleep(1.0)
        assert hit_files_text(data_dir).count(MARK.encode()) == 10
    finally:
        db.execute("ROLLBACK")
        db.close()
    wait_for(lambda: len(timeline(api, cid, "email_opened")) == 10, timeout=60, what="10 opens once the lock is gone")
    wait_for(lambda: hit_files_text(data_dir) == b"", what="the hit log emptied")
    srv.stop()


def test_an_erasure_leaves_nothing_of_the_contact_in_the_hit_log(data_dir):
    srv, api, cid, path = prepare(data_dir)
    # The contact's hits are held in the hit log (the loader cannot commit), then the lock goes and
    # the contact is erased at once: when the DELETE returns no file holds any of its hits.
    db = sqlite3.connect(str(data_dir / "rapport.db"), timeout=30, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    try:
        for _ in range(20):
            assert hit(srv, path, ua=MARK)[0] == 200
        assert MARK.encode() in hit_files_text(data_dir)
    finally:
        db.execute("ROLLBACK")
        db.close()
    r = api.delete(f"/api/v1/contacts/{cid}")
    assert r.status == 204, r
    assert MARK.encode() not in hit_files_text(data_dir)
    # Nor in the database: the hits loaded before the erasure went with it, the others were dropped.
    with open(data_dir / "rapport.db", "rb") as f:
        assert MARK.encode() not in f.read()
    # A hit of the erased contact's message is a 404 now and writes nothing.
    assert hit(srv, path, ua=MARK)[0] == 404
    assert MARK.encode() not in hit_files_text(data_dir)
    srv.stop()
