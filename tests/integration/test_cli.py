"""The CLI as a user runs it: keys, CSV import with rejects, export, version."""
import csv
import io
import json
import os

import subprocess

from conftest import Client, Server, create_key, rapport_bin, run_cli, wait_for


def test_version_and_help(data_dir):
    out = run_cli("version", data=data_dir).stdout
    assert "rapport" in out


def test_keys_create_list_revoke(data_dir):
    run_cli("migrate", data=data_dir)
    key = create_key(data_dir, "read", "ci-reader")
    assert key.startswith("rk_")
    listing = run_cli("keys", "list", data=data_dir).stdout
    assert "ci-reader" in listing
    assert key not in listing, "keys list must never show a key"
    srv = Server(data_dir).start()
    try:
        assert Client(srv.base, key).get("/api/v1/contacts").status == 200
        key_id = next(line.split()[0] for line in listing.splitlines() if "ci-reader" in line)
        run_cli("keys", "revoke", key_id, data=data_dir)
        # A revoked key stops working (allow a short cache).
        import time
        deadline = time.time() + 15
        status = 200
        while time.time() < deadline:
            status = Client(srv.base, key).get("/api/v1/contacts").status
            if status == 401:
                break
            time.sleep(0.5)
        assert status == 401
    finally:
        srv.stop()
    # The key is stored hashed: the database never holds it.
    with open(os.path.join(str(data_dir), "rapport.db"), "rb") as f:
        assert key.encode() not in f.read()


def test_bad_scope_is_a_clear_error(data_dir):
    proc = run_cli("keys", "create", "--name", "x", "--scope", "root", data=data_dir, check=False)
    assert proc.returncode != 0
    assert "scope" in proc.stderr


def test_import_reports_bad_rows_by_line_and_keeps_good_ones(data_dir, tmp_path):
    run_cli("migrate", data=data_dir)
    src = tmp_path / "people.csv"
    src.write_text(
        "email,first_name,plan,lifetime_value,birthday,interests:list\n"
        "ada@example.com,Ada,pro,120.5,1990-02-28,tea;books\n"
        "not-an-email,Bob,free,0,1991-01-01,\n"
        "\"carol@example.com\",\"Carol, the second\",free,3,,\"gardening\"\n"
        "dave@example.com,Dave\n"
        "erin@example.com,Erin,\"multi\nline\",7,,\n")
    proc = run_cli("contacts", "import", str(src), data=data_dir, check=False)
    assert "line 3" in proc.stderr, proc.stderr
    assert "line 5" in proc.stderr, proc.stderr
    assert "imported 3" in (proc.stdout + proc.stderr)
    rejects = tmp_path / "people.csv.rejects.csv"
    assert rejects.exists()
    rows = list(csv.reader(io.StringIO(rejects.read_text())))
    assert len(rows) == 3  # header + two bad rows
    out = run_cli("contacts", "export", "--format", "jsonl", data=data_dir).stdout
    contacts = {c["email"]: c for c in map(json.loads, out.splitlines())}
    assert set(contacts) == {"ada@example.com", "carol@example.com", "erin@example.com"}
    assert contacts["ada@example.com"]["attributes"]["lifetime_value"] == 120.5
    assert contacts["ada@example.com"]["attributes"]["interests"] == ["tea", "books"]
    assert contacts["carol@example.com"]["attributes"]["first_name"] == "Carol, the second"
    assert contacts["erin@example.com"]["attributes"]["plan"] == "multi\nline"
    csv_out = run_cli("contacts", "export", "--format", "csv", data=data_dir).stdout
    assert "ada@example.com" in csv_out


def test_serve_without_config_and_demo_data(data_dir):
    srv = Server(data_dir, extra_args=["--demo"])
    srv.start()
    try:
        log = srv.read_log()
        key = next(line.split("admin API key:")[1].strip() for line in log.splitlines()
                   if "admin API key:" in line)
        api = Client(srv.base, key)
        page = api.get("/api/v1/contacts?limit=100").json()
        assert len(page["data"]) == 100 and page["next_cursor"]
        # The relationship features show something from the start: the newsletter's history gives
        # the reports opens (people's and proxies' apart), clicks and conversions, and the saved
        # segments members.
        totals = wait_for(lambda: (t := api.get("/api/v1/reports/overview").json()["totals"])["opened_human"] and t,
                          what="the demo history in the reports")
        assert totals["opened_human"] > 0 and totals["opened_machine"] > 0 and totals["clicked_human"] > 0, totals
        assert totals["conversions"] > 0 and totals["revenue"] > 0, totals
        segments = {s["name"]: s["id"] for s in api.get("/api/v1/segments").json()["data"]}
        assert {"engaged-readers", "never-opened", "big-spenders", "cart-abandoners"} <= set(segments), segments
        for name in ("engaged-readers", "big-spenders"):
            count = api.get(f"/api/v1/segments/{segments[name]}/count").json()["count"]
            assert 0 < count < 300, (name, count)
    finally:
        srv.stop()


def _demo_key(srv):
    return next(line.split("admin API key:")[1].strip() for line in srv.read_log().splitlines()
                if "admin API key:" in line)


def test_issue14_cli_and_demo_share_the_default_workspace(data_dir, tmp_path):
    run_cli("migrate", data=data_dir)
    srv = Server(data_dir, extra_args=["--demo"]).start()
    try:
        demo = Client(srv.base, _demo_key(srv))
        rows = tmp_path / "new.csv"
        rows.write_text("email,first_name\nnewcomer@example.com,New\n")
        run_cli("contacts", "import", str(rows), data=data_dir)
        found = demo.get("/api/v1/contacts?email=newcomer@example.com")
        assert found.status == 200, found
        exported = run_cli("contacts", "export", "--format", "jsonl", data=data_dir).stdout.splitlines()
        assert len(exported) == 301
        cli_key = create_key(data_dir, "read", "me")
        page = Client(srv.base, cli_key).get("/api/v1/contacts?limit=5")
        assert page.status == 200 and len(page.json()["data"]) == 5
    finally:
        srv.stop()


def test_issue14_data_dir_and_database_are_private(tmp_path):
    import stat
    data = tmp_path / "fresh" / "var"
    old = os.umask(0o022)
    try:
        run_cli("migrate", data=data)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / "rapport.db").st_mode) == 0o600
    for suffix in ("-wal", "-shm"):
        side = data / ("rapport.db" + suffix)
        if side.exists():
            assert stat.S_IMODE(os.stat(side).st_mode) == 0o600


def test_issue14_import_of_only_rejected_rows_fails_and_keeps_the_rows_as_they_were(data_dir, tmp_path):
    run_cli("migrate", data=data_dir)
    src = tmp_path / "bad.csv"
    raw_rows = [b'"not-an-email","c1"', b'bin\x00\x1b[2Jary@,\xff\xfe', b'"x@example.com",c"2,extra']
    src.write_bytes(b'"email",external_id\r\n' + b"\r\n".join(raw_rows) + b"\r\n")
    proc = subprocess.run([rapport_bin(), "contacts", "import", str(src), "--data", str(data_dir)],
                          capture_output=True, timeout=600)
    assert proc.returncode != 0, proc.stdout
    for byte in (b"\x00", b"\x1b", b"\xff"):
        assert byte not in proc.stderr, proc.stderr
    rejects = (tmp_path / "bad.csv.rejects.csv").read_bytes()
    lines = rejects.split(b"\r\n")
    assert lines[0] == b'"email",external_id,reason'
    for raw, line in zip(raw_rows, lines[1:]):
        assert line.startswith(raw + b","), (raw, line)


def test_issue14_serve_demo_prints_the_next_steps_once(data_dir):
    srv = Server(data_dir, extra_args=["--demo"]).start()
    try:
        log = srv.read_log()
        key = _demo_key(srv)
        assert log.count("admin API key:") == 1
        assert log.count(f"export KEY={key}") == 1
        first_call = f"curl -s -H \"Authorization: Bearer $KEY\" '{srv.base}/api/v1/contacts?limit=5'"
        assert log.count(first_call) == 1, log
        assert "docs/api.md" in log
        page = Client(srv.base, key).get("/api/v1/contacts?limit=5")
        assert page.status == 200 and len(page.json()["data"]) == 5
    finally:
        srv.stop()
    again = Server(data_dir, extra_args=["--demo"]).start()
    try:
        log = again.read_log()
        assert log.count("admin API key:") == 1  # the first start's only
        assert "rapport keys create" in log
    finally:
        again.stop()
