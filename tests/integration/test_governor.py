"""The frequency governor through the whole binary and real HTTP (issue 19, item 5): a policy set
with PUT /api/v1/governor, marketing mail sent past the cap through POST /api/v1/messages is
deferred (queued for the next allowed moment, never sent before it) or skipped as each send asks,
with the reason on the message and a "message.governed" event on the contact's timeline;
transactional mail is never governed; quiet hours in the contact's timezone move mail to their end.
"""
import datetime
import time

from conftest import wait_for
from consent_support import events, mail_files, setup_shop, start


def new_subscriber(api, address, **fields):
    r = api.post("/api/v1/contacts", {"email": address, **fields})
    assert r.status == 201, r
    cid = r.json()["id"]
    r = api.put(f"/api/v1/contacts/{cid}/subscriptions/news", {"status": "subscribed"})
    assert r.status == 200, r
    return cid


def marketing(api, cid, **governance):
    body = {"template": "news", "contact_id": cid, "class": "marketing", "topic": "news"}
    if governance:
        body["governance"] = governance
    r = api.post("/api/v1/messages", body)
    assert r.status == 202, r
    return r.json()


def message(api, mid):
    r = api.get(f"/api/v1/messages/{mid}")
    assert r.status == 200, r
    return r.json()


def utc(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_the_governor_defers_or_skips_marketing_mail_past_its_caps_and_says_why(data_dir):
    srv, api = start(data_dir)
    try:
        setup_shop(api, double_opt_in=())
        # The documented default: off, with the recommended values ready.
        r = api.get("/api/v1/governor")
        assert r.status == 200, r
        assert r.json() == {"enabled": False, "per_day": 1, "per_week": 3, "topics": {},
                            "quiet_hours": {"start": "21:00", "end": "08:00"}, "timezone": "UTC",
                            "global_holdout": 0}
        # Bad values are JSON errors naming the member; nothing changes.
        for body, field in (({"per_day": -1}, "per_day"), ({"quiet_hours": {"start": "25:00", "end": "08:00"}},
                                                           "quiet_hours.start"),
                            ({"timezone": "Mars/Olympus"}, "timezone"), ({"caps": 1}, "caps")):
            r = api.put("/api/v1/governor", body)
            assert r.status == 422, r
            assert r.json()["error"]["field"] == field, r
        # One marketing message per day, no quiet hours (this test runs at any hour).
        r = api.put("/api/v1/governor", {"enabled": True, "per_day": 1, "per_week": 3, "quiet_hours": None})
        assert r.status == 200, r
        assert r.json()["enabled"] is True and r.json()["quiet_hours"] is None
        assert api.get("/api/v1/governor").json() == r.json()

        ada = new_subscriber(api, "ada@example.com")
        before = mail_files(data_dir)
        first = marketing(api, ada, source="app:newsletter")
        assert first["state"] == "queued" and "governor" not in first
        wait_for(lambda: message(api, first["id"])["state"] == "sent", what="the first message sent")

        # Past the cap: deferred to the next day (UTC, the policy's timezone), with the reason.
        second = marketing(api, ada, source="app:promo", priority=1, on_cap="defer")
        now = datetime.datetime.now(datetime.timezone.utc)
        midnight = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(),
                                             datetime.timezone.utc)
        assert second["state"] == "queued"
        assert second["governor"]["decision"] == "deferred", second
        assert utc(second["governor"]["send_at"]) == midnight, second
        assert "the cap of 1 marketing message per day" in second["governor"]["reason"]
        # A skip send is recorded, not queued.
        third = marketing(api, ada, source="app:flash", on_cap="skip")
        assert third["state"] == "suppressed", third
        assert third["governor"]["decision"] == "skipped"
        assert third["governor"]["reason"].startswith("skipped: the cap of 1 marketing message per day")
        # Transactional mail is never governed.
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": ada, "class": "transactional"})
        assert r.status == 202, r
        receipt = r.json()
        assert "governor" not in receipt
        wait_for(lambda: message(api, receipt["id"])["state"] == "sent", what="the transactional message sent")

        # The outbox: the deferred message waits for its moment, the skipped one says why.
        time.sleep(1.0)
        m2 = message(api, second["id"])
        assert m2["state"] == "queued", m2
        assert utc(m2["next_attempt_at"]) == midnight
        assert m2["last_reply"] == second["governor"]["reason"]
        m3 = message(api, third["id"])
        assert m3["state"] == "suppressed" and m3["last_reply"] == third["governor"]["reason"]
        assert len(mail_files(data_dir) - before) == 2  # the first marketing message and the receipt

        # The contact's timeline: one message.governed per decision, with source and until.
        governed = {e["properties"]["message_id"]: e["properties"] for e in events(api, ada)
                    if e["name"] == "message.governed"}
        assert set(governed) == {second["id"], third["id"]}
        assert governed[second["id"]]["decision"] == "deferred"
        assert governed[second["id"]]["source"] == "app:promo"
        assert governed[second["id"]]["priority"] == 1
        assert utc(governed[second["id"]]["until"]) == midnight
        assert governed[third["id"]]["decision"] == "skipped"
        assert governed[third["id"]]["on_cap"] == "skip"
        assert "until" not in governed[third["id"]]
        # Bad governance is refused like the rest of the request.
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": ada, "class": "marketing",
                                          "topic": "news", "governance": {"on_cap": "drop"}})
        assert r.status == 422 and r.json()["error"]["field"] == "governance.on_cap", r
    finally:
        srv.stop()


def test_quiet_hours_in_the_contacts_timezone_move_marketing_mail_to_their_end(data_dir):
    srv, api = start(data_dir)
    try:
        setup_shop(api, double_opt_in=())
        # A quiet window around the current time in Tokyo (UTC+9, no DST): from an hour ago to
        # two hours from now, local.
        tokyo = datetime.timezone(datetime.timedelta(hours=9))
        local = datetime.datetime.now(tokyo)
        start_t, end_t = local - datetime.timedelta(hours=1), local + datetime.timedelta(hours=2)
        r = api.put("/api/v1/governor", {"enabled": True, "per_day": 0, "per_week": 0,
                                         "quiet_hours": {"start": start_t.strftime("%H:%M"),
                                                         "end": end_t.strftime("%H:%M")}})
        assert r.status == 200, r
        cy = new_subscriber(api, "cy@example.com", timezone="Asia/Tokyo")
        sent = marketing(api, cy, source="campaign:7", on_cap="skip")  # quiet hours never skip
        assert sent["state"] == "queued"
        assert sent["governor"]["decision"] == "deferred", sent
        expected = end_t.replace(second=0, microsecond=0)
        assert utc(sent["governor"]["send_at"]) == expected.astimezone(datetime.timezone.utc), sent
        assert "quiet hours" in sent["governor"]["reason"] and "Asia/Tokyo" in sent["governor"]["reason"]
        # A contact in another timezone outside its quiet hours is mailed at once.
        dee = new_subscriber(api, "dee@example.com", timezone="Etc/GMT-3")  # UTC+3: 6 hours earlier
        other = marketing(api, dee)
        assert "governor" not in other, other
        wait_for(lambda: message(api, other["id"])["state"] == "sent", what="the message outside quiet hours sent")
        assert message(api, sent["id"])["state"] == "queued"
    finally:
        srv.stop()


def test_the_global_holdout_gets_no_marketing_mail_and_says_why(data_dir):
    """A global holdout of 30%: about that share of contacts gets no marketing mail (skipped, the
    reason on the message and the timeline) whatever the priority, even with the caps off, while
    their transactional mail goes; the others' marketing mail is queued."""
    srv, api = start(data_dir)
    try:
        setup_shop(api, double_opt_in=())
        bad = api.put("/api/v1/governor", {"global_holdout": 0.9})
        assert bad.status == 422 and bad.json()["error"]["field"] == "global_holdout", bad
        r = api.put("/api/v1/governor", {"global_holdout": 0.3})
        assert r.status == 200 and r.json()["global_holdout"] == 0.3 and r.json()["enabled"] is False, r
        held, sent = [], []
        for i in range(40):
            cid = new_subscriber(api, f"h{i}@example.com")
            m = marketing(api, cid, priority=1000)
            if m.get("governor", {}).get("decision") == "skipped":
                assert "global holdout (30% of contacts" in m["governor"]["reason"], m
                assert message(api, m["id"])["state"] == "suppressed"
                held.append(cid)
            else:
                assert m["state"] == "queued", m
                sent.append(cid)
        assert 3 <= len(held) <= 25, (len(held), len(sent))
        cid = held[0]
        receipt = api.post("/api/v1/messages", {"template": "news", "contact_id": cid, "class": "transactional"})
        assert receipt.status == 202 and receipt.json()["state"] == "queued", receipt
        governed = [e for e in events(api, cid) if e["name"] == "message.governed"]
        assert governed and governed[0]["properties"]["decision"] == "skipped", governed

        # The programme's report: each held-out contact orders once for 30, each other one twice
        # for 20; the report puts every order in its contact's group, read from the profile index.
        batch = [{"contact_id": c, "name": "order_placed", "properties": {"total": 30}} for c in held]
        batch += [{"contact_id": c, "name": "order_placed", "properties": {"total": 20}}
                  for c in sent for _ in range(2)]
        r = api.post("/api/v1/events", {"events": batch})
        assert r.status == 202 and r.json()["accepted"] == len(batch), r
        report = api.get("/api/v1/reports/holdout")
        assert report.status == 200, report
        rep = report.json()
        assert rep["global_holdout"] == 0.3 and rep["goal_event"] == "order_placed", rep
        assert rep["holdout"]["converters"] == len(held) and rep["holdout"]["revenue"] == 30 * len(held), rep
        assert rep["treated"]["converters"] == len(sent), rep
        assert rep["treated"]["conversions"] == 2 * len(sent) and rep["treated"]["revenue"] == 40 * len(sent), rep
        assert rep["holdout"]["contacts"] >= len(held) and rep["treated"]["contacts"] >= len(sent), rep
        assert rep["lift"]["revenue_per_contact"]["absolute"] > 0, rep
        assert rep["verdict"] in ("helped", "hurt", "inconclusive") and rep["summary"], rep
        bad = api.get("/api/v1/reports/holdout?from=2026-02-30")
        assert bad.status == 422 and bad.json()["error"]["field"] == "from", bad
    finally:
        srv.stop()
