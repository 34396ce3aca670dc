"""Every change is an event, committed with it (docs/events.md), through the real binary.

One contact is changed every way the API, the CLI and the unsubscribe link allow; after each
call returns, its timeline holds exactly the events of that change (no lag: they were committed
in the same transaction), and a call that fails adds none.
"""
import glob
import os
import re

from conftest import Client, Server, create_key, run_cli, wait_for

TEMPLATE = {"name": "news", "subject": "News", "html": "<p>Hi</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>"}


def timeline(api, contact_id):
    """The contact's events, oldest first (every page)."""
    events, cursor = [], None
    while True:
        path = f"/api/v1/contacts/{contact_id}/events?limit=100" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(path)
        assert r.status == 200, r
        body = r.json()
        events.extend(body["data"])
        cursor = body.get("next_cursor")
        if not cursor:
            return list(reversed(events))


class Timeline:
    """Checks that each step adds exactly the named events to the contact's timeline."""

    def __init__(self, api, contact_id):
        self.api, self.contact_id = api, contact_id
        self.seen = timeline(api, contact_id)

    def expect(self, *names):
        now = timeline(self.api, self.contact_id)
        assert [e["id"] for e in now[:len(self.seen)]] == [e["id"] for e in self.seen], "the timeline changed"
        added = now[len(self.seen):]
        assert [e["name"] for e in added] == list(names), added
        self.seen = now
        return added


def test_each_change_through_api_cli_and_link_is_one_event_committed_with_it(data_dir, tmp_path):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    env = {"RAPPORT_SENDER_FROM": "Shop <hello@shop.example>", "RAPPORT_SENDER_LIST_ID": "news.shop.example",
           "RAPPORT_SERVER_PUBLIC_URL": "https://mail.shop.example"}
    srv = Server(data_dir, env=env).start()
    try:
        api = Client(srv.base, admin)
        assert api.post("/api/v1/topics", {"key": "news", "name": "News"}).status == 201
        assert api.post("/api/v1/templates", TEMPLATE).status == 201

        # API: create.
        r = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"plan": "free"}})
        assert r.status == 201, r
        ada = r.json()["id"]
        tl = Timeline(api, ada)
        assert [e["name"] for e in tl.seen] == ["contact.created"]
        assert tl.seen[0]["properties"]["attributes"] == {"plan": "free"}

        # API: attributes (old and new values of the changed keys only), then the same again.
        assert api.patch(f"/api/v1/contacts/{ada}", {"attributes": {"plan": "pro", "city": "Paris"}}).status == 200
        (e,) = tl.expect("contact.updated")
        assert e["properties"]["changes"]["attributes"] == {"plan": {"old": "free", "new": "pro"},
                                                            "city": {"old": None, "new": "Paris"}}
        assert api.patch(f"/api/v1/contacts/{ada}", {"attributes": {"plan": "pro"}}).status == 200
        tl.expect()

        # API: upsert by email changes a field.
        assert api.post("/api/v1/contacts", {"email": "ada@example.com", "locale": "fr"}).status == 200
        (e,) = tl.expect("contact.updated")
        assert e["properties"]["changes"]["locale"] == {"old": None, "new": "fr"}

        # API: status, both ways.
        assert api.patch(f"/api/v1/contacts/{ada}", {"status": "unsubscribed"}).status == 200
        (e,) = tl.expect("contact.status_changed")
        assert (e["properties"]["old"], e["properties"]["new"]) == ("active", "unsubscribed")
        assert api.patch(f"/api/v1/contacts/{ada}", {"status": "active"}).status == 200
        tl.expect("contact.status_changed")

        # A change that fails records nothing.
        assert api.post("/api/v1/contacts", {"email": "bob@example.com"}).status == 201
        clash = api.patch(f"/api/v1/contacts/{ada}", {"email": "bob@example.com", "locale": "de"})
        assert clash.status == 409, clash
        tl.expect()

        # API: subscriptions with their consent.
        r = api.put(f"/api/v1/contacts/{ada}/subscriptions/news",
                    {"status": "subscribed", "consent": {"source": "form:footer", "text_version": "v3"}})
        assert r.status == 200, r
        (e,) = tl.expect("topic.subscribed")
        assert e["properties"]["topic"] == "news"
        assert e["properties"]["consent"]["source"] == "form:footer"
        assert e["properties"]["consent"]["text_version"] == "v3"
        assert api.put(f"/api/v1/contacts/{ada}/subscriptions/news", {"status": "unsubscribed"}).status == 200
        tl.expect("topic.unsubscribed")
        assert api.delete(f"/api/v1/contacts/{ada}/subscriptions/news").status == 204
        tl.expect("topic.subscription_removed")
        assert api.delete(f"/api/v1/contacts/{ada}/subscriptions/news").status == 404
        tl.expect()

        # API: an event that changes its contact's attributes records the change just before it.
        r = api.post("/api/v1/events", {"name": "upgraded", "email": "ada@example.com",
                                        "attributes": {"plan": "team"}})
        assert r.status == 202, r
        change, event = tl.expect("contact.updated", "upgraded")
        assert change["properties"]["changes"]["attributes"]["plan"] == {"old": "pro", "new": "team"}
        # ... and one that creates its contact.
        r = api.post("/api/v1/events", {"name": "signed_up", "email": "new@example.com"})
        assert r.status == 202, r
        new_id = api.get("/api/v1/contacts?email=new@example.com").json()["data"][0]["id"]
        assert [e["name"] for e in timeline(api, new_id)] == ["contact.created", "signed_up"]

        # CLI: an import that changes ada and creates carol, while the server runs.
        csv_path = tmp_path / "people.csv"
        csv_path.write_text("email,plan\nada@example.com,enterprise\ncarol@example.com,free\n")
        run_cli("contacts", "import", str(csv_path), data=data_dir)
        (e,) = tl.expect("contact.imported")
        assert e["properties"]["created"] is False
        assert e["properties"]["changes"]["attributes"]["plan"] == {"old": "team", "new": "enterprise"}
        carol = api.get("/api/v1/contacts?email=carol@example.com").json()["data"][0]["id"]
        (imported,) = timeline(api, carol)
        assert imported["name"] == "contact.imported" and imported["properties"]["created"] is True
        # The same file again changes nothing.
        run_cli("contacts", "import", str(csv_path), data=data_dir)
        tl.expect()

        # The unsubscribe link: the status change and its event in one transaction, with the method.
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": ada, "class": "marketing"})
        assert r.status == 202, r
        wait_for(lambda: api.get(f"/api/v1/messages/{r.json()['id']}").json()["state"] == "sent",
                 what="the marketing message to be sent")
        tl.expect("message.queued", "message.sent")
        newest = max(glob.glob(str(data_dir / "outbox" / "new" / "*.eml")), key=os.path.getmtime)
        raw = open(newest, "rb").read().decode(errors="replace")
        url = re.search(r"<(https://mail\.shop\.example/u/[^>]+)>", raw).group(1)
        link = Client(url.replace("https://mail.shop.example", srv.base))
        done = link.request("POST", "", raw="List-Unsubscribe=One-Click", key=None,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status == 200, done
        (e,) = tl.expect("contact.status_changed")
        assert e["properties"]["new"] == "unsubscribed"
        origin = e["properties"]["origin"]
        assert (origin["via"], origin["method"]) == ("unsubscribe_link", "one-click")
        assert origin["ip"] == "127.0.0.0"  # truncated, as in the consent ledger (docs/consent.md)
        assert "user_agent" in origin
        # The link names its message: the unsubscribe is credited to it (and its template) in the reports.
        assert origin["message_id"] == r.json()["id"]
        # Again: already unsubscribed, nothing changes.
        assert link.request("POST", "", raw="List-Unsubscribe=One-Click", key=None,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}).status == 200
        tl.expect()

        # API: erasure leaves one tombstone without personal data.
        assert api.delete(f"/api/v1/contacts/{ada}").status == 204
        after = timeline(api, ada)
        assert [e["name"] for e in after] == ["contact.erased"]
        # Nothing about who it was: only the ids of its erased messages (counters), whose
        # delivered copies an erasure removes.
        assert set(after[0]["properties"]) <= {"message_ids"}, after[0]
        assert all(isinstance(i, int) for i in after[0]["properties"].get("message_ids", [])), after[0]
        assert "ada@" not in api.get(f"/api/v1/contacts/{ada}/events").body
    finally:
        srv.stop()
