#!/usr/bin/env python3
"""bench/contacts: rapport at N contacts beside its peers in the same run (see bench/contacts/run).

Usage: bench.py RAPPORT_BIN [CONTACTS] [ROUNDS]
Environment: RAPPORT_STORE_SQLITE_CACHE_MB / RAPPORT_STORE_SQLITE_MMAP_MB are passed to the server as they
are (docs/configuration.md); KEEP=DIR keeps the work directory there.
Each timed pair runs ROUNDS times, rapport and its peer alternated; medians are printed."""
import http.client
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
rapport = os.path.abspath(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
keep = os.environ.get("KEEP")
work = keep or tempfile.mkdtemp(prefix="rapport-contacts.")
os.makedirs(work, exist_ok=True)
csv = os.path.join(work, "contacts.csv")
PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"


def say(*a):
    print(*a, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, stdout=subprocess.DEVNULL, stdin=None):
    t = time.monotonic()
    before = os.times()
    subprocess.run(cmd, check=True, stdout=stdout, stdin=stdin, stderr=subprocess.DEVNULL)
    after = os.times()
    return time.monotonic() - t, (after.children_user - before.children_user) + (
        after.children_system - before.children_system)


def med(xs):
    return statistics.median(xs)


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


say(f"contacts: {os.cpu_count()} cores, load average {load()}, {n} contacts, {rounds} rounds; "
    f"sqlite3 CLI {subprocess.run(['sqlite3', '--version'], capture_output=True, text=True).stdout.split()[0]}")
if not os.path.exists(csv):
    run([sys.executable, os.path.join(here, "gen.py"), csv, str(n)])

# ---- import: alternated, each into a fresh database ------------------------------------------
# PARTS="export list" (with KEEP=DIR of an earlier run) skips the import and measures the rest on
# DIR/data0 again.
parts = os.environ.get("PARTS", "import export list").split()
imp_r, imp_s, imp_r_cpu, imp_s_cpu = [], [], [], []
data = None if "import" in parts else os.path.join(work, "data0")
for r in range(rounds if "import" in parts else 0):
    d = os.path.join(work, f"data{r}")
    shutil.rmtree(d, ignore_errors=True)
    run([rapport, "migrate", "--data", d], stdout=subprocess.DEVNULL)
    wall, cpu = timed([rapport, "contacts", "import", csv, "--data", d])
    imp_r.append(wall)
    imp_r_cpu.append(cpu)
    if data is None:
        data = d
    else:
        shutil.rmtree(d)
    raw = os.path.join(work, f"raw{r}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(raw + suffix):
            os.remove(raw + suffix)
    wall, cpu = timed(["sqlite3", raw, "-cmd", PRAGMAS, f".import --csv {csv} contacts"])
    imp_s.append(wall)
    imp_s_cpu.append(cpu)
    os.remove(raw)
db = os.path.join(data, "rapport.db")
con = sqlite3.connect(db)
ws = con.execute("SELECT id FROM workspaces WHERE name = 'default'").fetchone()[0]
live = con.execute("SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND status <> 'erased'", (ws,)).fetchone()[0]
if live != n:
    sys.exit(f"contacts: {live} contacts imported, not {n}")
if "import" in parts:
    say(f"import  rapport contacts import      {med(imp_r):7.2f} s  (CPU {med(imp_r_cpu):.2f} s; runs "
        + ", ".join(f"{x:.2f}" for x in imp_r) + ")")
    say(f"        sqlite3 .import --csv        {med(imp_s):7.2f} s  (CPU {med(imp_s_cpu):.2f} s; runs "
        + ", ".join(f"{x:.2f}" for x in imp_s) + ")")
    say(f"        ratio rapport/sqlite3 = {med(imp_r) / med(imp_s):.2f}x (goal <= 3x)")

# ---- export ------------------------------------------------------------------------------------
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
exp_r, exp_s, exp_r_cpu, exp_s_cpu = [], [], [], []
query = ("SELECT id, email, external_id, status, timezone, locale, attributes, created_at, updated_at "
         f"FROM contacts WHERE workspace_id = {ws} AND status <> 'erased' ORDER BY id")
out_r = os.path.join(work, "export.jsonl")
out_s = os.path.join(work, "export-sqlite.json")
for r in range(rounds if "export" in parts else 0):
    with open(out_r, "wb") as f:
        wall, cpu = timed([rapport, "contacts", "export", "--format", "jsonl", "--data", data], stdout=f)
    exp_r.append(wall)
    exp_r_cpu.append(cpu)
    with open(out_s, "wb") as f:
        wall, cpu = timed(["sqlite3", "-json", db, query], stdout=f)
    exp_s.append(wall)
    exp_s_cpu.append(cpu)
if "export" in parts:
    lines = sum(1 for _ in open(out_r, "rb"))
    if lines != n:
        sys.exit(f"contacts: the export has {lines} lines, not {n}")
    say(f"export  rapport contacts export jsonl {med(exp_r):7.2f} s  (CPU {med(exp_r_cpu):.2f} s; "
        f"{os.path.getsize(out_r) >> 20} MiB; runs " + ", ".join(f"{x:.2f}" for x in exp_r) + ")")
    say(f"        sqlite3 -json                 {med(exp_s):7.2f} s  (CPU {med(exp_s_cpu):.2f} s; "
        f"{os.path.getsize(out_s) >> 20} MiB; runs " + ", ".join(f"{x:.2f}" for x in exp_s) + ")")
    say(f"        ratio rapport/sqlite3 = {med(exp_r) / med(exp_s):.2f}x (goal <= 2x)")
    os.remove(out_r)
    os.remove(out_s)

# ---- list over HTTP, and the server's memory -----------------------------------------------------
if "list" not in parts:
    sys.exit(0)
key = run([rapport, "keys", "create", "--name", "bench", "--scope", "read", "--data", data],
          capture_output=True, text=True).stdout.strip().splitlines()[-1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
server = subprocess.Popen([rapport, "serve", "--data", data, "--listen", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w"))


def rss():
    fields = {}
    with open(f"/proc/{server.pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return f"VmRSS {fields['VmRSS']}, VmHWM {fields['VmHWM']}"


conn = None
try:
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.1)
    rss_start = rss()

    def get(path):
        global conn
        for attempt in range(2):
            try:
                t = time.monotonic()
                conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
                resp = conn.getresponse()
                body = resp.read()
                dt = time.monotonic() - t
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closes a connection idle past its header timeout: open another.
                if attempt:
                    raise
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        if resp.status != 200:
            sys.exit(f"contacts: GET {path} -> {resp.status} {body[:200]!r}")
        return dt, json.loads(body)

    def cursor(after):
        return ("v1:" + str(after)).encode().hex()

    first_id = con.execute("SELECT MIN(id) FROM contacts WHERE workspace_id = ? AND status <> 'erased'",
                           (ws,)).fetchone()[0]
    mid_id = con.execute("SELECT id FROM contacts WHERE workspace_id = ? AND status <> 'erased' ORDER BY id "
                         "LIMIT 1 OFFSET ?", (ws, n // 2)).fetchone()[0]
    last_id = con.execute("SELECT id FROM contacts WHERE workspace_id = ? AND status <> 'erased' ORDER BY id "
                          "LIMIT 1 OFFSET ?", (ws, max(0, n - 50))).fetchone()[0]
    email = con.execute("SELECT email FROM contacts WHERE id = ?", (mid_id,)).fetchone()[0]
    pages = {
        "first page (limit=100)": ("/api/v1/contacts?limit=100", "", ()),
        "next page (cursor after the 1st)": (f"/api/v1/contacts?limit=100&cursor={cursor(first_id)}",
                                            "AND id > ?", (first_id,)),
        "middle page (cursor at n/2)": (f"/api/v1/contacts?limit=100&cursor={cursor(mid_id)}", "AND id > ?",
                                        (mid_id,)),
        "last page (cursor at n-50)": (f"/api/v1/contacts?limit=100&cursor={cursor(last_id)}", "AND id > ?",
                                       (last_id,)),
        "email filter": (f"/api/v1/contacts?email={email.replace('@', '%40')}", "AND email_key = ?",
                         (email.lower(),)),
    }
    peer = sqlite3.connect(db)
    peer.execute("PRAGMA cache_size=-65536")
    reps = 21
    say(f"list    GET /api/v1/contacts over HTTP (keep-alive) vs the same query by Python's sqlite3 "
        f"(libsqlite3 {sqlite3.sqlite_version}), median of {reps} alternated")
    worst = 0.0
    for label, (path, extra, args) in pages.items():
        ts_r, ts_s = [], []
        sql = ("SELECT id, workspace_id, email, external_id, status, attributes, timezone, locale, created_at, "
               f"updated_at FROM contacts WHERE workspace_id = ? {extra} AND status <> 'erased' ORDER BY id "
               "LIMIT 101")
        for _ in range(reps):
            dt, body = get(path)
            ts_r.append(dt)
            t = time.monotonic()
            rows = peer.execute(sql, (ws, *args)).fetchall()
            ts_s.append(time.monotonic() - t)
        if len(body["data"]) != min(100, len(rows)):
            sys.exit(f"contacts: {label}: {len(body['data'])} contacts, the query found {len(rows)}")
        worst = max(worst, med(ts_r))
        say(f"        {label:34s} rapport {med(ts_r) * 1000:7.2f} ms  sqlite3 {med(ts_s) * 1000:6.2f} ms  "
            f"ratio {med(ts_r) / med(ts_s):.1f}x")
    say(f"        slowest page median {worst * 1000:.2f} ms (goal < 5 ms)")
    rss_pages = rss()
    # Every page of the list at limit=1000: touches the whole table once (WALK=0 skips it).
    if os.environ.get("WALK") == "0":
        say(f"memory  server at start {rss_start}; after the pages {rss_pages}")
        sys.exit(0)
    t = time.monotonic()
    path, count = "/api/v1/contacts?limit=1000", 0
    while True:
        _, body = get(path)
        count += len(body["data"])
        if not body["next_cursor"]:
            break
        path = f"/api/v1/contacts?limit=1000&cursor={body['next_cursor']}"
    walk = time.monotonic() - t
    if count != n:
        sys.exit(f"contacts: the walk listed {count} contacts, not {n}")
    say(f"        every page at limit=1000: {count} contacts in {walk:.2f} s")
    say(f"memory  server at start {rss_start}; after the pages {rss_pages}; after the walk {rss()}")
    say(f"        (RAPPORT_STORE_SQLITE_CACHE_MB={os.environ.get('RAPPORT_STORE_SQLITE_CACHE_MB', 'default')}, "
        f"RAPPORT_STORE_SQLITE_MMAP_MB={os.environ.get('RAPPORT_STORE_SQLITE_MMAP_MB', 'default')}; "
        f"database {os.path.getsize(db) >> 20} MiB)")
finally:
    server.terminate()
    server.wait()
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
say(f"contacts: load average after the run {load()}")
