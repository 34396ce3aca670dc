"""Events, the timeline, topics and subscriptions through the real binary."""
from conftest import Client


def test_single_event_creates_contact_and_appears_on_timeline(api):
    r = api.post("/api/v1/events", {"name": "signed_up", "email": "new@example.com",
                                     "properties": {"source": "landing"}})
    assert r.status == 202, r
    assert r.json()["accepted"] == 1
    c = api.get("/api/v1/contacts?email=new@example.com").json()["data"][0]
    tl = api.get(f"/api/v1/contacts/{c['id']}/events")
    assert tl.status == 200
    events = tl.json()["data"]
    # Newest first: the event, then the creation of its contact, recorded with it.
    assert [e["name"] for e in events] == ["signed_up", "contact.created"]
    assert events[0]["properties"] == {"source": "landing"}
    assert events[1]["properties"]["email"] == "new@example.com"


def test_batch_keeps_good_items_and_reports_bad_ones_by_index(api):
    batch = {"events": [
        {"name": "viewed_product", "email": "shopper@example.com", "properties": {"sku": "A1"}},
        {"name": "viewed_product", "email": "broken-address", "properties": {}},
        {"name": "", "email": "shopper@example.com"},
        {"name": "order_placed", "email": "shopper@example.com", "properties": {"total": 42.5},
         "idempotency_key": "order-1"},
        {"name": "order_placed", "email": "shopper@example.com", "properties": {"total": 42.5},
         "idempotency_key": "order-1"},
        {"name": "viewed_product", "contact_id": 987654321},
    ]}
    r = api.post("/api/v1/events", batch)
    assert r.status == 202, r
    body = r.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 1
    assert sorted(e["index"] for e in body["errors"]) == [1, 2, 5]
    fields = {e["index"]: e.get("field") for e in body["errors"]}
    assert fields[1] == "email" and fields[2] == "name"
    # Retrying the same order is accepted once only.
    r = api.post("/api/v1/events", {"name": "order_placed", "email": "shopper@example.com",
                                     "idempotency_key": "order-1"})
    assert r.json()["duplicates"] == 1 and r.json()["accepted"] == 0
    c = api.get("/api/v1/contacts?email=shopper@example.com").json()["data"][0]
    names = [e["name"] for e in api.get(f"/api/v1/contacts/{c['id']}/events").json()["data"]]
    # The batch wrote these three, once each; engines may append their own after it (the analytics
    # consumer's lifecycle_changed, clv_changed and engagement_changed, each with its
    # contact.updated, for the first order).
    written = sorted(n for n in names if n in ("contact.created", "order_placed", "viewed_product"))
    assert written == ["contact.created", "order_placed", "viewed_product"]
    assert set(names) <= {"contact.created", "order_placed", "viewed_product", "lifecycle_changed",
                          "clv_changed", "engagement_changed", "contact.updated"}, names


def test_timeline_is_newest_first_and_paginates(api):
    events = [{"name": f"e{i}", "email": "t@example.com", "occurred_at": f"2026-01-01T00:00:{i:02d}Z"}
              for i in range(25)]
    assert api.post("/api/v1/events", {"events": events}).json()["accepted"] == 25
    c = api.get("/api/v1/contacts?email=t@example.com").json()["data"][0]
    names, cursor = [], ""
    while True:
        page = api.get(f"/api/v1/contacts/{c['id']}/events?limit=10&cursor={cursor}").json()
        names += [e["name"] for e in page["data"]]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            break
    assert names[-1] == "contact.created"  # the oldest: the contact the first event created
    assert len(names) == 26 and len(set(names)) == 26


def test_too_many_events_in_one_request(api):
    events = [{"name": "x", "email": f"u{i}@example.com"} for i in range(10001)]
    r = api.post("/api/v1/events", {"events": events})
    assert r.status in (413, 422)
    assert "error" in r.json()


def test_topics_and_subscriptions_with_consent(server, api):
    r = api.post("/api/v1/topics", {"key": "newsletter", "name": "Monthly newsletter"})
    assert r.status == 201, r
    assert api.post("/api/v1/topics", {"key": "newsletter", "name": "again"}).status == 409
    assert api.post("/api/v1/topics", {"key": "Bad Key!", "name": "x"}).status == 422
    topics = api.get("/api/v1/topics").json()["data"]
    assert [t["key"] for t in topics] == ["newsletter"]
    c = api.post("/api/v1/contacts", {"email": "sub@example.com"}).json()
    r = api.put(f"/api/v1/contacts/{c['id']}/subscriptions/newsletter",
                {"status": "subscribed", "consent": {"source": "form:footer", "text_version": "v3"}},
                headers={"User-Agent": "pytest-agent"})
    assert r.status == 200, r
    sub = r.json()
    assert sub["status"] == "subscribed"
    assert sub["consent"]["source"] == "form:footer"
    assert sub["consent"]["ip"] == "127.0.0.0"  # truncated to /24, as every recorded address
    assert sub["consent"]["user_agent"] == "pytest-agent"
    subs = api.get(f"/api/v1/contacts/{c['id']}/subscriptions").json()["data"]
    assert [s["topic"] for s in subs] == ["newsletter"]
    assert api.put(f"/api/v1/contacts/{c['id']}/subscriptions/nope", {"status": "subscribed"}).status == 404
    assert api.delete(f"/api/v1/contacts/{c['id']}/subscriptions/newsletter").status == 204
    assert api.get(f"/api/v1/contacts/{c['id']}/subscriptions").json()["data"] == []
