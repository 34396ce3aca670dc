#!/usr/bin/env python3
# What erasure's purge costs in SQLite (issue 14 item 1): the same DELETE as a plain write, with
# secure_delete on, and with secure_delete plus the TRUNCATE checkpoint rapport runs before the 204
# (sql::Database::WriteAndPurge). Run: python3 bench/erasure/erase_cost.py
import sqlite3, time, os, tempfile, statistics
d = tempfile.mkdtemp(); path = os.path.join(d, "t.db")
c = sqlite3.connect(path, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL"); c.execute("PRAGMA wal_autocheckpoint=10000")
c.execute("CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, contact_id INTEGER, name TEXT, properties TEXT)")
c.execute("CREATE INDEX ev_c ON events (contact_id, id)")
c.execute("BEGIN")
for i in range(1_000_000):
    c.execute("INSERT INTO events (contact_id, name, properties) VALUES (?, 'order_placed', ?)", (i % 100_000, '{"total": 42.5, "note": "x%d"}' % i))
c.execute("COMMIT"); c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
def pending(n):  # leave n frames' worth of ordinary writes in the WAL, as a live server would
    c.execute("BEGIN")
    for i in range(n): c.execute("INSERT INTO events (contact_id, name, properties) VALUES (?, 'page_viewed', '{}')", (200_000 + i,))
    c.execute("COMMIT")
res = {"plain": [], "secure": [], "secure+truncate": []}
for rnd in range(5):
    for mode in res:
        pending(20000)
        cid = 1000 * rnd + len(mode)
        t = time.perf_counter()
        if mode != "plain": c.execute("PRAGMA secure_delete=ON")
        c.execute("BEGIN IMMEDIATE"); c.execute("DELETE FROM events WHERE contact_id=?", (cid,)); c.execute("COMMIT")
        if mode != "plain": c.execute("PRAGMA secure_delete=OFF")
        if mode == "secure+truncate": c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        res[mode].append((time.perf_counter() - t) * 1000)
        if mode != "secure+truncate": c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
for k, v in res.items(): print(f"{k}: median {statistics.median(v):.2f} ms over {len(v)} (erasing a contact with 10 of 1M events, 20,000 rows written since the last checkpoint)")
