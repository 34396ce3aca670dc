#!/usr/bin/env python3
"""bench/tracking/store_floor.py: the floor of the store's share of a tracking hit.

Appends rows like a hit's email_opened event (same columns, a JSON property text of the same
size) to the events table of a database made by `rapport migrate` (so the same schema and
indexes), with the sqlite3 CLI, in transactions of BATCH rows (the group commit's batch), with
rapport's PRAGMAs (WAL, synchronous=NORMAL), once with mmap_size 0 and once with 256 MB. Prints
the sqlite3 process's CPU (user+system) per row: what SQLite alone costs for a hit's row, with
no HTTP, no threads and no rapport code. The CLI parses each INSERT's text (rapport reuses
prepared statements), so this slightly overstates the floor.

Usage: bench/tracking/store_floor.py RAPPORT_BIN [ROWS] [BATCH]
"""
import os
import resource
import subprocess
import sys
import tempfile

bin_, rows, batch = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000, \
    int(sys.argv[3]) if len(sys.argv) > 3 else 32
props = ('{"message_id":123456,"template":"news","class":"marketing","user_agent":"Mozilla/5.0 (X11; '
         'Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0","ip":"127.0.0.0","method":"GET",'
         '"machine":false}')


def run(mmap_mb):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([bin_, "migrate", "--data", d], check=True, stdout=subprocess.DEVNULL)
        db = os.path.join(d, "rapport.db")
        # One workspace and contact for the rows to name (the foreign keys hold).
        subprocess.run(["sqlite3", db, "INSERT INTO workspaces (name, created_at) SELECT 'w', 0 "
                        "WHERE NOT EXISTS (SELECT 1 FROM workspaces);"
                        "INSERT INTO contacts (workspace_id, email, status, attributes, timezone, locale, "
                        "created_at, updated_at, email_key) VALUES ((SELECT min(id) FROM workspaces), "
                        "'r@example.com', 'active', '{}', '', '', 0, 0, 'r@example.com');"],
                       check=True)
        ws, cid = subprocess.run(["sqlite3", db, "SELECT workspace_id, id FROM contacts"], check=True,
                                 capture_output=True, text=True).stdout.strip().split("|")
        script = os.path.join(d, "load.sql")
        with open(script, "w") as f:
            f.write(f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    f"PRAGMA mmap_size={mmap_mb * 1024 * 1024}; PRAGMA wal_autocheckpoint=10000;\n")
            t = 1_800_000_000_000_000
            for b in range(0, rows, batch):
                f.write("BEGIN;\nINSERT INTO events (workspace_id, contact_id, name, properties, occurred_at, "
                        "received_at) VALUES ")
                f.write(",".join(f"({ws},{cid},'email_opened','{props}',{t + i},{t + i})"
                                 for i in range(b, min(rows, b + batch))))
                f.write(";\nCOMMIT;\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(script) as f:
            subprocess.run(["sqlite3", db], stdin=f, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return cpu / rows * 1e6


for mmap_mb in (0, 256, 0, 256, 0, 256):
    print(f"store floor: {rows} hit rows in transactions of {batch}, mmap_size {mmap_mb} MB: "
          f"{run(mmap_mb):.1f} us of sqlite3 CPU per row", flush=True)
