"""Send-time optimization through the whole binary (issue 19, item 6): human opens and clicks
posted as events over past weeks, in each contact's own timezone, give each contact's best hour
of the week on GET /api/v1/contacts/{id}/send-time; a contact with no history follows the
population; a real open through the tracking pixel is counted; a restart gives the same profile.
"""
import datetime
from zoneinfo import ZoneInfo

from conftest import Client, Server, wait_for
from test_tracking import TEMPLATE, hit, local, pixel, send, start

UTC = datetime.timezone.utc


def past_local(zone, weekday, hour, minute, weeks_ago):
    """An RFC 3339 UTC instant: the given local weekday (0 = Monday) and time, `weeks_ago` weeks
    before the most recent such day."""
    tz = ZoneInfo(zone)
    now = datetime.datetime.now(tz)
    day = now.date() - datetime.timedelta(days=(now.weekday() - weekday) % 7 + 7 * (weeks_ago + 1))
    at = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_events(api, events):
    for i in range(0, len(events), 100):
        r = api.post("/api/v1/events", {"events": events[i:i + 100]})
        assert r.status in (200, 202), r


def profile(api, cid):
    r = api.get(f"/api/v1/contacts/{cid}/send-time")
    assert r.status == 200, r
    return r.json()


def test_best_hours_from_posted_engagement_and_a_real_open(data_dir):
    srv, api = start(data_dir)
    try:
        def contact(email, tz=None):
            body = {"email": email}
            if tz:
                body["timezone"] = tz
            r = api.post("/api/v1/contacts", body)
            assert r.status == 201, r
            return r.json()["id"]

        # The population: 20 readers in New York on Tuesdays at 10:00 local, 4 weeks running.
        crowd = [contact(f"p{i}@example.com", "America/New_York") for i in range(20)]
        events = []
        for weeks_ago in range(4):
            at = past_local("America/New_York", 1, 10, 12, weeks_ago)
            for cid in crowd:
                events.append({"contact_id": cid, "name": "email_opened", "occurred_at": at,
                               "properties": {"message_id": 1, "machine": False}})
                # Machine opens (privacy proxies) at another hour count for nothing.
                events.append({"contact_id": cid, "name": "email_opened",
                               "occurred_at": past_local("America/New_York", 3, 3, 0, weeks_ago),
                               "properties": {"message_id": 1, "machine": True}})
        # A night owl in Tokyo: Thursdays at 22:00 local, with clicks.
        owl = contact("owl@example.com", "Asia/Tokyo")
        for weeks_ago in range(6):
            at = past_local("Asia/Tokyo", 3, 22, 5, weeks_ago)
            events.append({"contact_id": owl, "name": "email_opened", "occurred_at": at,
                           "properties": {"message_id": 2, "machine": False}})
            events.append({"contact_id": owl, "name": "email_clicked", "occurred_at": at,
                           "properties": {"message_id": 2, "machine": False}})
        post_events(api, events)
        newcomer = contact("new@example.com", "America/New_York")

        wait_for(lambda: profile(api, owl)["human_clicks"] == 6, what="the owl's clicks folded")
        o = profile(api, owl)
        assert o["timezone"] == "Asia/Tokyo" and o["timezone_source"] == "contact"
        assert o["human_opens"] == 6 and o["evidence"] == 18 and o["personal"] is True
        best = o["best_hours"][0]
        assert (best["day"], best["hour"], best["opens"], best["clicks"]) == ("thursday", 22, 6, 6)
        assert abs(o["personal_share"] - 18 / 28) < 1e-9
        assert len(o["posterior"]) == 168 and abs(sum(o["posterior"]) - 1) < 1e-9
        nxt = datetime.datetime.strptime(o["next_best"]["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        tokyo = nxt.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (tokyo.weekday(), tokyo.hour) == (3, 22)
        assert 0 <= (nxt - datetime.datetime.now(UTC)).total_seconds() <= 7 * 86400

        n = profile(api, newcomer)
        assert n["personal"] is False and n["human_opens"] == 0 and n["counts"] == []
        assert n["posterior"] == n["population"]
        assert (n["best_hours"][0]["day"], n["best_hours"][0]["hour"]) == ("tuesday", 10)
        assert n["best_hours"][0]["opens"] == 0
        nxt = datetime.datetime.strptime(n["next_best"]["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        ny = nxt.astimezone(ZoneInfo("America/New_York"))
        assert (ny.weekday(), ny.hour) == (1, 10)

        # A real human open through the pixel is counted in the current local hour.
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        ada = contact("ada@example.com")  # no timezone: the workspace's (UTC)
        _, body, _, _ = send(api, data_dir, ada)
        assert hit(srv, local(srv, pixel(body)))[0] == 200
        wait_for(lambda: profile(api, ada)["human_opens"] == 1, what="the pixel's open folded")
        a = profile(api, ada)
        assert a["timezone"] == "UTC" and a["timezone_source"] == "workspace"
        now = datetime.datetime.now(UTC)
        expected_hour = ((now.weekday() + 1) % 7) * 24 + now.hour  # Sunday = 0
        assert [c["hour_of_week"] for c in a["counts"]] in ([expected_hour], [(expected_hour + 167) % 168])

        # Errors are JSON.
        missing = api.get("/api/v1/contacts/987654321/send-time")
        assert missing.status == 404 and "error" in missing.json()
        assert api.get("/api/v1/contacts/abc/send-time").status == 404
        before = profile(api, owl)
        # A rebuild folds the whole log again: the same profile.
        assert api.post("/api/v1/reports/rebuild", {}).status in (200, 202, 204)
        rebuilt = profile(api, owl)
        for k in ("human_opens", "human_clicks", "counts", "posterior", "population", "best_hours"):
            assert rebuilt[k] == before[k], k
    finally:
        srv.stop()

    # A restart loads the committed state: the same profile.
    srv = Server(data_dir, env=srv.env).start()
    try:
        api = Client(srv.base, api.key)
        after = profile(api, owl)
        for k in ("human_opens", "human_clicks", "counts", "posterior", "population", "best_hours"):
            assert after[k] == before[k], k
    finally:
        srv.stop()
