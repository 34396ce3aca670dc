"""Segments through the real binary: saved and checked, counted, listed, previewed, explained;
membership changes appear on the timeline as events arrive and as a time window expires; the CLI
counts from the store's log."""
import datetime
import time

from conftest import run_cli


def timeline(api, contact_id):
    names, cursor = [], ""
    while True:
        page = api.get(f"/api/v1/contacts/{contact_id}/events?limit=100" + (f"&cursor={cursor}" if cursor else "")).json()
        names += [(e["name"], e.get("properties", {})) for e in page["data"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return names


def wait_for(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    return pred()


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_segments_end_to_end(server, api, data_dir):
    ids = {}
    for email, city, age in [("ann@example.org", "Paris", 34), ("bob@example.org", "Lyon", 19),
                             ("cy@example.org", "Paris", 51)]:
        r = api.post("/api/v1/contacts", {"email": email, "attributes": {"city": city, "age": age}})
        assert r.status == 201, r
        ids[email] = r.json()["id"]
    r = api.post("/api/v1/events", {"events": [
        {"name": "order_placed", "email": "ann@example.org", "properties": {"total": 80}},
        {"name": "order_placed", "email": "ann@example.org", "properties": {"total": 20}},
        {"name": "order_placed", "email": "cy@example.org", "properties": {"total": 70}}]})
    assert r.status == 202, r

    # A typo is refused with its position and a hint; so is a cycle.
    r = api.post("/api/v1/segments", {"name": "parisians", "expression": 'cty = "Paris"'})
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["field"] == "expression"
    assert err["message"] == "line 1, column 1: unknown attribute 'cty' (did you mean 'city'?)", err

    r = api.post("/api/v1/segments", {"name": "parisians", "description": "in Paris",
                                      "expression": 'city = "Paris"'})
    assert r.status == 201, r
    parisians = r.json()
    r = api.post("/api/v1/segments", {"name": "buyers",
                                      "expression": "at least 1 order_placed where total > 50 in the last 30 days"})
    assert r.status == 201, r
    buyers = r.json()
    r = api.post("/api/v1/segments", {"name": "paris-buyers", "expression": "in segment parisians and in segment buyers"})
    assert r.status == 201, r
    both = r.json()
    assert api.post("/api/v1/segments", {"name": "parisians", "expression": "age > 1"}).status == 409

    assert api.get(f"/api/v1/segments/{parisians['id']}/count").json()["count"] == 2
    assert api.get(f"/api/v1/segments/{buyers['id']}/count").json()["count"] == 2
    assert api.get(f"/api/v1/segments/{both['id']}/count").json()["count"] == 2
    assert [s["name"] for s in api.get("/api/v1/segments").json()["data"]] == ["buyers", "paris-buyers", "parisians"]

    # Members, a page at a time.
    page = api.get(f"/api/v1/segments/{parisians['id']}/members?limit=1").json()
    assert [m["email"] for m in page["data"]] == ["ann@example.org"] and page["next_cursor"]
    page2 = api.get(f"/api/v1/segments/{parisians['id']}/members?limit=1&cursor={page['next_cursor']}").json()
    assert [m["email"] for m in page2["data"]] == ["cy@example.org"] and page2["next_cursor"] is None

    # Preview: count, sample, time; an error with its position.
    r = api.post("/api/v1/segments/preview", {"expression": "age >= 30 and sum(total) of order_placed > 90"})
    assert r.status == 200, r
    p = r.json()
    assert p["count"] == 1 and [c["email"] for c in p["sample"]] == ["ann@example.org"] and p["evaluation_us"] >= 0
    r = api.post("/api/v1/segments/preview", {"expression": "age >= 30 and\n  city = Paris"})
    assert r.status == 422 and r.json()["error"]["message"].startswith("line 2, column 10:"), r

    # A new event makes Bob a buyer: the membership change is on his timeline.
    bob = ids["bob@example.org"]
    assert api.get(f"/api/v1/contacts/{bob}/segments").json()["data"] == []
    r = api.post("/api/v1/events", {"name": "order_placed", "email": "bob@example.org", "properties": {"total": 99}})
    assert r.status == 202
    got = wait_for(lambda: [s["name"] for s in api.get(f"/api/v1/contacts/{bob}/segments").json()["data"]])
    assert got == ["buyers"], got
    entered = wait_for(lambda: [p for n, p in timeline(api, bob) if n == "segment_entered"])
    assert entered and entered[0]["segment"] == "buyers" and entered[0]["segment_id"] == buyers["id"], entered

    # An attribute change moves Bob to Paris: he enters parisians and, through it, paris-buyers.
    assert api.patch(f"/api/v1/contacts/{bob}", {"attributes": {"city": "Paris"}}).status == 200
    got = wait_for(lambda: sorted(s["name"] for s in api.get(f"/api/v1/contacts/{bob}/segments").json()["data"]) ==
                   ["buyers", "paris-buyers", "parisians"])
    assert got, api.get(f"/api/v1/contacts/{bob}/segments").json()

    # Explain says why, predicate by predicate, with the contact's values.
    ann = ids["ann@example.org"]
    r = api.get(f"/api/v1/contacts/{ann}/segments/{buyers['id']}/explain")
    assert r.status == 200, r
    x = r.json()
    assert x["member"] is True
    assert x["predicates"][0]["predicate"] == "at least 1 order_placed where total > 50 in the last 30 days"
    assert x["predicates"][0]["value"] == 1 and x["predicates"][0]["result"] is True
    r = api.get(f"/api/v1/contacts/{ann}/segments/{both['id']}/explain")
    assert [s.get("op") for s in r.json()["predicates"]] == ["and", None, None]

    # Changing a segment's expression re-computes it; a referenced segment cannot be deleted.
    r = api.put(f"/api/v1/segments/{parisians['id']}", {"name": "parisians", "expression": 'city = "Paris" and age > 40'})
    assert r.status == 200, r
    assert api.get(f"/api/v1/segments/{parisians['id']}/count").json()["count"] == 1
    assert api.delete(f"/api/v1/segments/{parisians['id']}").status == 409
    # Nor renamed: `in segment parisians` would quietly match no one.
    r = api.put(f"/api/v1/segments/{parisians['id']}", {"name": "paris-people", "expression": 'city = "Paris"'})
    assert r.status == 409 and r.json()["error"]["field"] == "name", r
    assert "paris-buyers" in r.json()["error"]["message"], r
    r = api.put(f"/api/v1/segments/{parisians['id']}", {"name": "parisians", "expression": "in segment paris-buyers"})
    assert r.status == 422 and "cycle" in r.json()["error"]["message"], r
    assert api.delete(f"/api/v1/segments/{both['id']}").status == 204
    assert api.get(f"/api/v1/segments/{both['id']}/count").status == 404

    # The CLI counts from the store's log (read-only).
    out = run_cli("segments", "count", 'city = "Paris" and at least 1 order_placed', data=data_dir)
    assert out.stdout.strip() == "3", out
    bad = run_cli("segments", "count", "at least 2 order_plcaed", data=data_dir, check=False)
    assert bad.returncode == 1 and "did you mean 'order_placed'" in bad.stderr, bad.stderr


def test_a_time_window_expires_on_time_and_a_restart_emits_nothing_twice(server, api, data_dir):
    # The view happened 30 days minus 3 seconds ago: "in the last 30 days" ends 3 seconds from now.
    now = datetime.datetime.now(datetime.timezone.utc)
    at = now - datetime.timedelta(days=30) + datetime.timedelta(seconds=3)
    r = api.post("/api/v1/events", {"name": "page_viewed", "email": "dee@example.org", "occurred_at": iso(at)})
    assert r.status == 202, r
    dee = api.get("/api/v1/contacts?email=dee@example.org").json()["data"][0]["id"]
    r = api.post("/api/v1/segments", {"name": "active-readers", "expression": "any page_viewed in the last 30 days"})
    assert r.status == 201, r
    seg = r.json()
    assert api.get(f"/api/v1/segments/{seg['id']}/count").json()["count"] == 1
    exited = wait_for(lambda: [p for n, p in timeline(api, dee) if n == "segment_exited"], timeout=15)
    assert exited and exited[0]["segment_id"] == seg["id"], timeline(api, dee)
    assert api.get(f"/api/v1/segments/{seg['id']}/count").json()["count"] == 0
    left_at = time.time()
    assert left_at - now.timestamp() < 10

    # A restart rebuilds the index from the log and appends nothing already there.
    before = [n for n, _ in timeline(api, dee)]
    server.stop()
    server.start()
    assert api.get(f"/api/v1/segments/{seg['id']}/count").json()["count"] == 0
    time.sleep(1)
    assert [n for n, _ in timeline(api, dee)] == before


def feed_lag(server):
    """The segment consumer's rapport_feed_lag_seconds histogram from /metrics: {le: count}, sum, count."""
    from conftest import Client
    body = Client(server.base, None).get("/metrics").body
    buckets, total, count = {}, None, None
    for line in body.splitlines():
        if line.startswith('rapport_feed_lag_seconds_bucket{consumer="segments",le="'):
            le = line.split('le="')[1].split('"')[0]
            buckets[le] = int(line.rsplit(" ", 1)[1])
        elif line.startswith('rapport_feed_lag_seconds_sum{consumer="segments"}'):
            total = float(line.rsplit(" ", 1)[1])
        elif line.startswith('rapport_feed_lag_seconds_count{consumer="segments"}'):
            count = int(line.rsplit(" ", 1)[1])
    return buckets, total, count


def test_the_segment_consumers_feed_lag_is_on_metrics(server, api):
    buckets, _, before = feed_lag(server)
    assert before is not None and buckets["+Inf"] == before
    r = api.post("/api/v1/events", {"events": [{"name": "page_viewed", "email": "lag@example.org"}]})
    assert r.status == 202, r
    # contact.created and page_viewed, each observed once the consumer has applied it.
    assert wait_for(lambda: feed_lag(server)[2] >= before + 2)
    buckets, total, count = feed_lag(server)
    assert buckets["+Inf"] == count
    les = [float(le) for le in buckets if le != "+Inf"]
    assert les == sorted(les) and les[0] == 0.00025 and les[-1] == 300
    counts = [buckets[le] for le in buckets]
    assert counts == sorted(counts), "cumulative buckets"
    # Applied within seconds of the 202 on an idle server, not minutes.
    assert buckets["5"] == count and 0 <= total < 5 * count
