"""Issue 14: erasure leaves nothing behind, in any file under the data directory.

A contact with events, a subscription and delivered messages (the maildir copies in
<data>/outbox) is erased, through the API and through `rapport contacts erase`. Then every file
under the data directory (the SQLite database, its WAL and shm files, the outbox's .eml files,
the secrets and the server log) is searched byte by byte for the address and a unique attribute
value: while the server runs, and again after kill -9. Nothing is found; a contact that was not
erased is still found (so the search can fail).
"""
import glob
import os
import signal

from conftest import Client, Server, create_key, run_cli, wait_for

TEMPLATE = {"name": "receipt", "subject": "Your receipt, {{ contact.first_name }}",
            "html": "<p>Hi {{ contact.first_name }} from {{ contact.city }}.</p>"}


def files_containing(root, needles):
    """Every file under root holding any of the needles (bytes, also as lower case)."""
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            lower = data.lower()
            hits = [n for n in needles if n in data or n.lower() in lower]
            if hits:
                found.append((os.path.relpath(path, root), hits))
    return found


def make_person(api, email, unique):
    r = api.post("/api/v1/contacts", {"email": email,
                                      "attributes": {"first_name": "Quinn", "city": unique, "code": unique}})
    assert r.status == 201, r
    cid = r.json()["id"]
    r = api.post("/api/v1/events", {"events": [
        {"name": "order_placed", "email": email, "properties": {"note": unique, "total": 42.5}},
        {"name": "page_viewed", "contact_id": cid, "properties": {"url": "https://shop.example/" + unique}}]})
    assert r.status == 202 and r.json()["accepted"] == 2, r
    r = api.put(f"/api/v1/contacts/{cid}/subscriptions/news",
                {"status": "subscribed", "consent": {"source": "form:" + unique}})
    assert r.status == 200, r
    ids = []
    for _ in range(2):
        r = api.post("/api/v1/messages", {"template": "receipt", "contact": {"id": cid}})
        assert r.status == 202, r
        ids.append(r.json()["id"])
    for mid in ids:
        wait_for(lambda: api.get(f"/api/v1/messages/{mid}").json()["state"] == "sent", what=f"message {mid} sent")
    return cid


def test_issue14_erasure_leaves_nothing_in_any_file_live_and_after_kill_9(data_dir):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    srv = Server(data_dir).start()
    try:
        api = Client(srv.base, admin)
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        assert api.post("/api/v1/topics", {"key": "news"}).status == 201

        gone = make_person(api, "quinn.erase14@example.com", "zqx-gone-7731")
        api_kept = make_person(api, "kept.erase14@example.com", "zqx-kept-7732")
        cli_gone = make_person(api, "robin.erase14@example.com", "zqx-cli-7733")
        outbox = str(data_dir / "outbox")
        assert len(glob.glob(outbox + "/new/*.eml")) == 6

        # Before: the search finds every person (it can fail).
        needles = [b"quinn.erase14@example.com", b"zqx-gone-7731"]
        assert files_containing(str(data_dir), needles), "the search finds nothing even before erasure"

        assert api.delete(f"/api/v1/contacts/{gone}").status == 204
        # The other path: the CLI, against the same data directory while the server runs.
        out = run_cli("contacts", "erase", "robin.erase14@example.com", data=data_dir).stdout
        assert f"erased contact {cli_gone}" in out, out

        cli_needles = [b"robin.erase14@example.com", b"zqx-cli-7733"]
        assert files_containing(str(data_dir), needles + cli_needles) == []
        # The kept contact is untouched: its two messages are still in the outbox.
        assert files_containing(str(data_dir), [b"zqx-kept-7732"])
        assert len(glob.glob(outbox + "/new/*.eml")) == 2
        assert api.get(f"/api/v1/contacts/{api_kept}").status == 200

        srv.stop(sig=signal.SIGKILL)
        assert files_containing(str(data_dir), needles + cli_needles) == []

        # Restarted, the store recovers (the WAL was truncated, nothing to replay) and still
        # refuses the erased addresses.
        srv = Server(data_dir).start()
        api = Client(srv.base, admin)
        r = api.post("/api/v1/contacts", {"email": "quinn.erase14@example.com"})
        assert r.status == 409 and r.json()["error"]["field"] == "email", r
        assert files_containing(str(data_dir), needles + cli_needles) == []
    finally:
        srv.stop(sig=signal.SIGKILL)


def test_issue14_erasing_again_retries_the_copies(data_dir):
    """The tombstone keeps the message ids: a copy that reappeared (or that a failed erasure
    left) is removed by erasing again."""
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    srv = Server(data_dir).start()
    try:
        api = Client(srv.base, admin)
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        assert api.post("/api/v1/topics", {"key": "news"}).status == 201
        cid = make_person(api, "sam.erase14@example.com", "zqx-again-7734")
        copies = sorted(glob.glob(str(data_dir / "outbox" / "new" / "*.eml")))
        assert len(copies) == 2
        saved = [(p, open(p, "rb").read()) for p in copies]
        assert api.delete(f"/api/v1/contacts/{cid}").status == 204
        assert glob.glob(str(data_dir / "outbox" / "new" / "*.eml")) == []
        # A copy left behind (e.g. the disk refused the unlink): restored, then erased again.
        path, data = saved[0]
        with open(path, "wb") as f:
            f.write(data)
        os.rename(path, path.replace("/new/", "/cur/") + ":2,S")  # as a mail reader files it
        assert api.delete(f"/api/v1/contacts/{cid}").status == 204
        assert files_containing(str(data_dir), [b"zqx-again-7734"]) == []
    finally:
        srv.stop()
