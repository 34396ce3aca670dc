#!/usr/bin/env python3
"""Generates the ingest benchmark's inputs in OUT: N JSON batch bodies of 1,000 events for the
HTTP API (bodies/bodyB.json), and the same rows as SQL scripts for the sqlite3 CLI (one pass over
the N batches, one transaction per batch; the runner repeats the pass), written two ways:
  sqlite-rows.sql:  two statements per event (INSERT OR IGNORE the contact, INSERT the event
                    naming it by a subquery on its email key, as rapport looks contacts up; the
                    generated addresses are lower case, so the key is the address), each compiled
                    by the CLI;
  sqlite-multi.sql: two statements per batch (a multi-row INSERT OR IGNORE of the contacts, and
                    INSERT ... SELECT of the events from a VALUES list joined to them);
  sqlite-bare.sql:  one multi-row INSERT per batch into a bare table without index (the issue's
                    "bare sqlite3 append": no contacts, no schema of rapport's).
Usage: gen.py OUT [N]"""
import json
import os
import sys

out = sys.argv[1]
bodies = int(sys.argv[2]) if len(sys.argv) > 2 else 20
batch = 1000
os.makedirs(os.path.join(out, "bodies"), exist_ok=True)


def make(b):
    events = []
    for i in range(batch):
        n = b * batch + i
        events.append({"name": "page_viewed", "email": f"visitor{n % 20000}@example.com",
                       "properties": {"url": f"/products/{n % 500}", "ref": "newsletter", "n": n},
                       "occurred_at": "2026-11-20T10:00:00Z"})
    return events


def q(s):
    return "'" + s.replace("'", "''") + "'"


batches = [make(b) for b in range(bodies)]
for b, events in enumerate(batches):
    with open(os.path.join(out, "bodies", f"body{b}.json"), "w") as f:
        json.dump({"events": events}, f)

with open(os.path.join(out, "sqlite-rows.sql"), "w") as rows, \
        open(os.path.join(out, "sqlite-multi.sql"), "w") as multi, \
        open(os.path.join(out, "sqlite-bare.sql"), "w") as bare:
    bare.write("CREATE TABLE IF NOT EXISTS bare_events (id INTEGER PRIMARY KEY, email TEXT NOT NULL, "
               "name TEXT NOT NULL, properties TEXT NOT NULL, occurred_at INTEGER NOT NULL);\n")
    for events in batches:
        items = [(q(e["email"]), q(json.dumps(e["properties"], separators=(",", ":")))) for e in events]
        rows.write("BEGIN IMMEDIATE;\n")
        for em, props in items:
            rows.write("INSERT OR IGNORE INTO contacts(workspace_id,email,email_key,created_at,updated_at) "
                       f"VALUES(1,{em},{em},1,1);\n")
            rows.write("INSERT INTO events(contact_id,workspace_id,name,properties,occurred_at,received_at) "
                       f"VALUES((SELECT id FROM contacts WHERE workspace_id=1 AND email_key={em}),"
                       f"1,'page_viewed',{props},1,2);\n")
        rows.write("COMMIT;\n")
        multi.write("BEGIN IMMEDIATE;\n")
        multi.write("INSERT OR IGNORE INTO contacts(workspace_id,email,email_key,created_at,updated_at) VALUES "
                    + ",".join(f"(1,{em},{em},1,1)" for em, _ in items) + ";\n")
        multi.write("INSERT INTO events(contact_id,workspace_id,name,properties,occurred_at,received_at) "
                    "SELECT c.id,1,'page_viewed',v.column2,1,2 FROM (VALUES "
                    + ",".join(f"({em},{props})" for em, props in items)
                    + ") AS v CROSS JOIN contacts c ON c.workspace_id=1 AND c.email_key=v.column1;\n")
        multi.write("COMMIT;\n")
        bare.write("BEGIN IMMEDIATE;\n")
        bare.write("INSERT INTO bare_events(email,name,properties,occurred_at) VALUES "
                   + ",".join(f"({em},'page_viewed',{props},1)" for em, props in items) + ";\n")
        bare.write("COMMIT;\n")
