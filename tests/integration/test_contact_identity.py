"""One contact per email address whatever its letter case, through the real binary: lookups,
events naming a contact as messages do, and the case variants an older database holds (listed
by `rapport contacts duplicates`, merged with POST /api/v1/contacts/{id}/merge)."""
import sqlite3

from conftest import run_cli


def test_case_variants_are_one_contact_and_old_ones_are_listed_then_merged(server, api):
    r = api.post("/api/v1/contacts", {"email": "Bob.Smith@Example.COM", "attributes": {"plan": "pro"}})
    assert r.status == 201, r
    bob = r.json()
    assert bob["email"] == "Bob.Smith@example.com"
    r = api.post("/api/v1/contacts", {"email": "bob.smith@example.com", "attributes": {"city": "Oslo"}})
    assert r.status == 200 and r.json()["id"] == bob["id"], r
    assert r.json()["email"] == "Bob.Smith@example.com"
    listed = api.get("/api/v1/contacts?email=BOB.SMITH@example.com").json()["data"]
    assert [c["id"] for c in listed] == [bob["id"]]

    # Events name the contact as messages do, by any case.
    r = api.post("/api/v1/events", {"name": "visited", "contact": {"email": "BOB.smith@example.com"}})
    assert r.status == 202, r
    r = api.post("/api/v1/events", {"name": "visited", "contact": {"id": bob["id"]}})
    assert r.status == 202, r
    bad = api.post("/api/v1/events", {"name": "visited", "contact": {"emial": "x@example.com"}})
    assert bad.status == 422 and bad.json()["error"]["field"] == "contact.emial", bad
    names = [e["name"] for e in api.get(f"/api/v1/contacts/{bob['id']}/events").json()["data"]]
    assert names.count("visited") == 2

    # A variant as an older database holds it: a second contact, no identity key.
    db = sqlite3.connect(str(server.data / "rapport.db"), timeout=30)
    with db:
        ws = db.execute("SELECT workspace_id FROM contacts WHERE id = ?", (bob["id"],)).fetchone()[0]
        legacy = db.execute(
            "INSERT INTO contacts (workspace_id, email, status, attributes, timezone, locale, created_at, updated_at) "
            "VALUES (?, 'bob.smith@example.com', 'active', '{\"legacy\": 1}', '', '', 1, 1)", (ws,)).lastrowid
        db.execute("INSERT INTO events (contact_id, workspace_id, name, properties, occurred_at, received_at) "
                   "VALUES (?, ?, 'old.event', '{}', 1, 1)", (legacy, ws))
    db.close()

    out = run_cli("contacts", "duplicates", data=server.data).stdout
    assert f"{bob['id']}\tBob.Smith@example.com" in out, out
    assert f"{legacy}\tbob.smith@example.com" in out, out
    assert "1 groups of duplicates" in out, out

    assert api.post(f"/api/v1/contacts/{bob['id']}/merge", {"contact_id": bob["id"]}).status == 422
    missing = api.post(f"/api/v1/contacts/{bob['id']}/merge", {"contact": {"id": 999999}})
    assert missing.status == 404 and set(missing.json()) == {"error"}, missing
    r = api.post(f"/api/v1/contacts/{bob['id']}/merge", {"contact": {"id": legacy}})
    assert r.status == 200, r
    merged = r.json()
    assert merged["attributes"] == {"plan": "pro", "city": "Oslo", "legacy": 1}
    events = api.get(f"/api/v1/contacts/{bob['id']}/events").json()["data"]
    assert events[0]["name"] in ("contact.merged", "contact.updated")
    merges = [e for e in events if e["name"] == "contact.merged"]
    assert len(merges) == 1 and merges[0]["properties"]["merged_contact_id"] == legacy
    assert merges[0]["properties"]["moved"]["events"] == 1
    assert "old.event" in [e["name"] for e in events]
    assert api.get(f"/api/v1/contacts/{legacy}").json()["status"] == "erased"
    assert "0 groups of duplicates" in run_cli("contacts", "duplicates", data=server.data).stdout
    again = api.post(f"/api/v1/contacts/{bob['id']}/merge", {"contact_id": legacy})
    assert again.status == 409, again
