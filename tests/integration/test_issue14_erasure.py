"""Issue 14: an erased person is never mailed again.

After DELETE /api/v1/contacts/{id}, a contact create, an upsert through a send, or an event naming
the same address (in any letter case) is refused with 409 naming the field email; only
"reconsent": true on POST /api/v1/contacts creates the contact again, and its timeline says so.
The erasure list keeps keyed hashes: the data directory holds the key, <data_dir>/erasure-secret.
"""
import os
import stat

TEMPLATE = {"name": "hello", "subject": "Hello", "html": "<p>Hello</p>"}


def assert_erased(r):
    assert r.status == 409, r
    err = r.json()["error"]
    assert err["field"] == "email", err
    assert "erased" in err["message"] and "consent" in err["message"], err


def test_issue14_an_erased_address_is_refused_everywhere_until_reconsent(api, server):
    assert api.post("/api/v1/templates", TEMPLATE).status == 201
    r = api.post("/api/v1/contacts", {"email": "dana.issue14@example.com",
                                       "attributes": {"code": "zq-issue14-unique"}})
    assert r.status == 201, r
    dana = r.json()["id"]
    assert api.delete(f"/api/v1/contacts/{dana}").status == 204

    # The erasure key is a secret of the data directory, readable by its owner only.
    secret = os.path.join(str(server.data), "erasure-secret")
    assert os.path.exists(secret)
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600

    # A new contact, in any letter case of the local part, is refused.
    for email in ("dana.issue14@example.com", "Dana.Issue14@example.com"):
        assert_erased(api.post("/api/v1/contacts", {"email": email}))
    # An event naming the address is refused (the rest of the batch is stored).
    r = api.post("/api/v1/events", {"events": [{"name": "order_placed", "email": "dana.issue14@example.com"},
                                               {"name": "order_placed", "email": "erin.issue14@example.com"}]})
    assert r.status == 202, r
    body = r.json()
    assert body["accepted"] == 1, body
    assert [e["index"] for e in body["errors"]] == [0], body
    assert body["errors"][0].get("field") == "email" and "erased" in body["errors"][0]["message"], body
    # A send naming the address creates no contact and sends nothing.
    r = api.post("/api/v1/messages", {"template": "hello", "contact": {"email": "DANA.ISSUE14@example.com"}})
    assert_erased(r)
    assert api.get("/api/v1/contacts?email=dana.issue14@example.com").json()["data"] == []

    # Fresh consent, said explicitly, creates the contact again and is recorded on its timeline.
    r = api.post("/api/v1/contacts", {"email": "dana.issue14@example.com", "reconsent": True})
    assert r.status == 201, r
    again = r.json()["id"]
    assert again != dana
    events = api.get(f"/api/v1/contacts/{again}/events").json()["data"]
    created = [e for e in events if e["name"] == "contact.created"]
    assert created and created[0]["properties"].get("origin") == {"reconsent": True}, events
    r = api.post("/api/v1/messages", {"template": "hello", "contact": {"email": "dana.issue14@example.com"}})
    assert r.status == 202, r
