"""The hits' cache of sent messages' link tables (issue 16, the tracking speed work): a hit served
from memory is still recorded, an erasure leaves nothing served from memory, and a contact merged or
erased by another process is noticed by the next hit.

Every message here is hit once first, so that the later hits go through the cache (the I/O-thread
path of src/http/tracking_handlers.cpp), then the contact changes underneath.
"""
import re

from conftest import Client, run_cli
from test_tracking import TEMPLATE, hit, local, pixel, send, start, timeline, tracked_links


def metric(srv, name):
    body = Client(srv.base).get("/metrics").body
    body = body.decode() if isinstance(body, bytes) else body
    return int(re.search(rf"^{name} (\d+)$", body, re.M).group(1))


def cached_message(api, srv, data_dir, email):
    cid = api.post("/api/v1/contacts", {"email": email, "attributes": {"first_name": "Ada"}}).json()["id"]
    mid, body, _, _ = send(api, data_dir, cid)
    px = local(srv, pixel(body))
    click = local(srv, tracked_links(body)[0])
    assert hit(srv, px)[0] == 200  # looked up in the store, then kept in memory
    return cid, mid, px, click


def test_hits_served_from_the_cache_are_each_recorded(data_dir):
    # The group commit's counters: with the hit log off (the hit log's own path is
    # test_tracking_hit_log.py).
    srv, api = start(data_dir, RAPPORT_TRACKING_HIT_LOG="false")
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        cid, mid, px, click = cached_message(api, srv, data_dir, "ada@example.com")
        for _ in range(20):
            status, headers, gif = hit(srv, px)
            assert status == 200 and len(gif) == 43 and "no-store" in headers["cache-control"]
            status, headers, _ = hit(srv, click)
            assert status == 302 and headers["location"] == "https://shop.example/item?id=1&ref=mail"
        assert len(timeline(api, cid, "email_opened")) == 21
        assert metric(srv, "rapport_tracking_link_cache_messages") == 1
        assert metric(srv, "rapport_tracking_hits_stored_total") == 41
        assert 1 <= metric(srv, "rapport_tracking_hit_commits_total") <= 41
        clicks = timeline(api, cid, "email_clicked")
        assert len(clicks) == 20 and all(c["properties"]["message_id"] == mid for c in clicks)
        # A tampered token is still a bare 404 on the fast path, and records nothing.
        bad = px[:-1] + ("A" if px[-1] != "A" else "B")
        assert hit(srv, bad)[0] == 404
        assert len(timeline(api, cid, "email_opened")) == 21
    finally:
        srv.stop()


def test_an_erasure_through_the_api_leaves_no_hit_served_from_memory(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        cid, _, px, click = cached_message(api, srv, data_dir, "ada@example.com")
        assert hit(srv, click)[0] == 302
        assert metric(srv, "rapport_tracking_link_cache_messages") == 1
        assert api.delete(f"/api/v1/contacts/{cid}?erase=true").status == 204
        assert metric(srv, "rapport_tracking_link_cache_messages") == 0  # nothing left in memory
        assert hit(srv, px)[0] == 404
        status, headers, _ = hit(srv, click)
        assert status == 404 and "location" not in headers
    finally:
        srv.stop()


def test_an_erasure_by_another_process_is_noticed_by_the_next_hit(data_dir):
    # With the group commit (hit log off), the store refuses the hit's event at once. With the hit
    # log, the hit is answered from the cache and dropped when loaded (docs/tracking.md).
    srv, api = start(data_dir, RAPPORT_TRACKING_HIT_LOG="false")
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        cid, _, px, click = cached_message(api, srv, data_dir, "ada@example.com")
        assert hit(srv, click)[0] == 302
        run_cli("contacts", "erase", "ada@example.com", data=data_dir)
        # The server's cache still holds the message; the store refuses the event; the hit is
        # looked up again and the message is gone.
        assert hit(srv, click)[0] == 404
        assert hit(srv, px)[0] == 404
    finally:
        srv.stop()


def test_a_merge_moves_the_next_hits_to_the_surviving_contact(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        old, mid, px, click = cached_message(api, srv, data_dir, "ada.old@example.com")
        keep = api.post("/api/v1/contacts", {"email": "ada@example.com"}).json()["id"]
        r = api.post(f"/api/v1/contacts/{keep}/merge", {"contact_id": old})
        assert r.status == 200, r
        assert hit(srv, click)[0] == 302
        assert hit(srv, px)[0] == 200
        clicks = timeline(api, keep, "email_clicked")
        assert len(clicks) == 1 and clicks[0]["properties"]["message_id"] == mid
        assert len(timeline(api, keep, "email_opened")) >= 1
    finally:
        srv.stop()
