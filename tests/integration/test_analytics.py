"""Relationship analytics through the whole binary (issue 17): messages sent, opened and clicked
through the real tracking endpoints, an order posted through the API; the reports, the CSV, the
contact's engagement, lifecycle and CLV, the overview; a restart gives the same numbers.
"""
import time

from conftest import Client, Server, wait_for
from test_tracking import TEMPLATE, hit, local, pixel, send, start, timeline, tracked_links

PERIOD = "from={}&to={}".format(time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400 * 10)),
                                time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400)))


def report(api, path):
    r = api.get(path)
    assert r.status == 200, r
    return r.json()


def row(data, key):
    for r in data["data"]:
        if r["key"] == key:
            return r
    raise AssertionError(f"no row {key} in {data}")


def test_reports_after_sends_opens_clicks_and_an_order(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()["id"]
        bob = api.post("/api/v1/contacts", {"email": "bob@example.com", "attributes": {"first_name": "Bob"}}).json()["id"]
        mid_ada, body_ada, _, sent_at = send(api, data_dir, ada)
        mid_bob, _, _, _ = send(api, data_dir, bob)

        # Ada opens twice (one unique open) and, after the 10-second scanner window, clicks.
        assert hit(srv, local(srv, pixel(body_ada)))[0] == 200
        assert hit(srv, local(srv, pixel(body_ada)))[0] == 200
        time.sleep(max(0.0, 11 - (time.time() - sent_at)))
        assert hit(srv, local(srv, tracked_links(body_ada)[0]))[0] in (302, 303)
        # Then she orders.
        r = api.post("/api/v1/events", {"events": [{"contact_id": ada, "name": "order_placed",
                                                    "properties": {"total": 42.5}}]})
        assert r.status in (200, 202), r

        opens = [e for e in timeline(api, ada, "email_opened") if not e["properties"]["machine"]]
        clicks = [e for e in timeline(api, ada, "email_clicked") if not e["properties"]["machine"]]
        assert opens and clicks

        def news():
            return row(report(api, f"/api/v1/reports/templates?{PERIOD}"), "news")

        wait_for(lambda: news()["conversions"] == 1, what="the conversion in the report")
        t = news()
        assert t["sent"] == 2 and t["delivered"] == 2
        assert t["opened_human"] == 1 and t["clicked_human"] == 1
        assert t["revenue"] == 42.5 and t["revenue_first"] == 42.5 and t["revenue_linear"] == 42.5
        assert t["click_rate"] == 0.5 and t["click_to_open_rate"] == 1.0 and t["open_rate"] == 0.5
        whole = report(api, f"/api/v1/reports/daily?{PERIOD}")["totals"]
        assert whole["orders"] == 1 and whole["order_revenue"] == 42.5 and whole["sent"] == 2

        # The message's own outcomes.
        m = report(api, f"/api/v1/reports/messages/{mid_ada}")
        assert m["keys"]["template"] == "news" and "opened_human" in m["outcomes"] and "clicked_human" in m["outcomes"]
        # The order credited to Ada's message by every model (her only touch).
        assert m["conversions"] == {"last": 1, "first": 1, "linear": 1}, m
        assert m["revenue"] == {"last": 42.5, "first": 42.5, "linear": 42.5}, m
        b = report(api, f"/api/v1/reports/messages/{mid_bob}")
        assert b["outcomes"] == [] and b["conversions"] == {"last": 0, "first": 0, "linear": 0}, b

        # The daily series of the template, and CSV both ways.
        today = report(api, "/api/v1/reports/templates/news")  # the last 30 days by default
        assert today["totals"]["sent"] == 2 and len(today["days"]) == 30
        csv = api.get(f"/api/v1/reports/templates?{PERIOD}&format=csv")
        headers = {k.lower(): v for k, v in csv.headers.items()}
        assert csv.status == 200 and headers["content-type"].startswith("text/csv")
        lines = csv.body.strip().split("\r\n")
        assert lines[0].startswith("template,sent,suppressed,delivered")
        assert lines[1].startswith("news,2,0,2,")
        by_accept = api.get(f"/api/v1/reports/templates?{PERIOD}", headers={"Accept": "text/csv"})
        assert by_accept.body == csv.body

        # The contact: engagement, lifecycle, historic and predicted CLV; the change is on the timeline.
        view = report(api, f"/api/v1/contacts/{ada}/analytics")
        assert view["lifecycle"] == "new_customer" and view["orders"] == 1 and view["clv"] == 42.5
        assert 0 < view["engagement_score"] <= 100
        assert view["clv_predicted"]["method"] == "fallback" and "too few customers" in view["clv_predicted"]["reason"]
        changes = timeline(api, ada, "lifecycle_changed")
        assert len(changes) == 1 and changes[0]["properties"] == {"from": "subscriber", "to": "new_customer"}
        assert report(api, f"/api/v1/contacts/{bob}/analytics")["lifecycle"] == "subscriber"
        # The stage is also the contact's attribute, for templates ({{ contact.lifecycle }}).
        assert api.get(f"/api/v1/contacts/{ada}").json()["attributes"]["lifecycle"] == "new_customer"

        five_days_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400 * 5))
        ov = report(api, f"/api/v1/reports/overview?from={five_days_ago}")
        assert ov["totals"]["sent"] == 2 and ov["lifecycle"]["new_customer"] == 1
        assert ov["top_templates"][0]["template"] == "news"
        assert sum(b["contacts"] for b in ov["engagement"]) >= 2

        # Errors are JSON with the field.
        bad = api.get("/api/v1/reports/templates?from=2026-13-01")
        assert bad.status == 422 and bad.json()["error"]["field"] == "from"
        assert api.get("/api/v1/reports/nonsense").status == 404
        before = news()
        # A rebuild from the log gives the same numbers and appends no second lifecycle change.
        rebuilt = api.post("/api/v1/reports/rebuild", {})
        assert rebuilt.status == 200 and rebuilt.json()["position"] > 0, rebuilt
        assert news() == before
        assert len(timeline(api, ada, "lifecycle_changed")) == 1
    finally:
        srv.stop()

    # A restart resumes from the committed state: the same numbers, nothing counted twice.
    srv = Server(data_dir, env={"RAPPORT_SENDER_FROM": "Tea Shop <hello@shop.example>"}).start()
    try:
        api = Client(srv.base, api.key)
        assert row(report(api, f"/api/v1/reports/templates?{PERIOD}"), "news") == before
        assert len(timeline(api, ada, "lifecycle_changed")) == 1
    finally:
        srv.stop()


SCORES = {
    "name": "scores",
    "subject": "Your scores",
    "html": "<html><body><p>score={{ contact.engagement_score }} stage={{ contact.lifecycle }}"
            " clv={{ contact.clv }} predicted={{ contact.predicted_clv }}</p></body></html>",
}


def test_engagement_lifecycle_and_clv_in_segments_templates_and_the_contact(data_dir):
    import re

    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        assert api.post("/api/v1/templates", SCORES).status == 201
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com"}).json()["id"]
        bob = api.post("/api/v1/contacts", {"email": "bob@example.com"}).json()["id"]
        cy = api.post("/api/v1/contacts", {"email": "cy@example.com"}).json()["id"]
        _, body_ada, _, _ = send(api, data_dir, ada)
        assert hit(srv, local(srv, pixel(body_ada)))[0] == 200  # a human open: S = 1, score 18
        wait_for(lambda: api.get(f"/api/v1/contacts/{ada}").json()["attributes"].get("engagement_score") == 18,
                 what="the first published score")
        for who, total in ((ada, 120), (bob, 10)):
            r = api.post("/api/v1/events", {"events": [{"contact_id": who, "name": "order_placed",
                                                        "properties": {"total": total}}]})
            assert r.status in (200, 202), r

        def attrs(who):
            return api.get(f"/api/v1/contacts/{who}").json()["attributes"]

        wait_for(lambda: attrs(ada).get("clv") == 120 and attrs(bob).get("clv") == 10, what="the CLV attributes")
        a, b = attrs(ada), attrs(bob)
        # By hand: Ada's open (w 1) and order (w 5) seconds apart, S = 6: round(100 (1 - e^-1.2)) = 70;
        # Bob's order alone, S = 5: 63. Both are new customers; predictions from the fallback.
        assert a["engagement_score"] == 70 and b["engagement_score"] == 63, (a, b)
        assert a["lifecycle"] == "new_customer" and b["lifecycle"] == "new_customer"
        assert a["predicted_clv"] > 0 and b["predicted_clv"] > 0
        assert "engagement_score" not in attrs(cy)
        view = report(api, f"/api/v1/contacts/{ada}/analytics")
        assert abs(view["engagement_score"] - a["engagement_score"]) < 10
        assert abs(view["clv_predicted"]["value_12_months"] - a["predicted_clv"]) < 0.01
        assert len(timeline(api, ada, "engagement_changed")) == 2 and len(timeline(api, ada, "clv_changed")) == 1

        # Segments read them as fields.
        def count(expression):
            r = api.post("/api/v1/segments/preview", {"expression": expression})
            assert r.status == 200, r
            return r.json()["count"]

        assert count("engagement_score > 65") == 1
        assert count("engagement_score >= 60") == 2
        assert count('lifecycle = "new_customer"') == 2
        assert count("clv > 50") == 1
        assert count("clv > 5 and predicted_clv > 0") == 2
        seg = api.post("/api/v1/segments", {"name": "big-spenders", "expression": "clv >= 100"})
        assert seg.status == 201, seg
        assert api.get(f"/api/v1/segments/{seg.json()['id']}/count").json()["count"] == 1

        # Templates read them on `contact`.
        _, html_body, _, _ = send(api, data_dir, ada, template="scores")
        m = re.search(r"score=(\d+) stage=(\w+) clv=([\d.]+) predicted=([\d.]+)", html_body)
        assert m, html_body
        assert int(m.group(1)) == 70 and m.group(2) == "new_customer" and float(m.group(3)) == 120
        assert abs(float(m.group(4)) - a["predicted_clv"]) < 0.01
    finally:
        srv.stop()
