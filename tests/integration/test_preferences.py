"""The preference center, the consent ledger, double opt-in and the public sign-up endpoint
through the whole binary and real HTTP (issue 16, items 4 and 5).

A marketing message is delivered to the maildir; its preference link is followed with an HTTP
client and the form posted; the changes are on the consent ledger (source, truncated address,
user agent, wording version) and on the timeline; a paused contact gets no marketing mail.
POST /api/v1/subscribe starts a double opt-in whose link expires (a short configured expiry),
is rate-limited per client address and drops bots that fill its honeypot.
"""
import http.client
import urllib.parse

from conftest import wait_for
from consent_support import (BROWSER, PUBLIC, confirm_link, consents, contact_by_email, events, link_to,
                             mail_files, send_news, setup_shop, start, subscribed, wait_new_mail, wait_seconds)

FORM = "application/x-www-form-urlencoded"


def call(srv, method, path, body=None, content_type=FORM, forwarded="203.0.113.77", ua=BROWSER):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    headers = {"User-Agent": ua, "X-Forwarded-For": forwarded}
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else urllib.parse.urlencode(body, doseq=True)
        headers["Content-Type"] = content_type
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    out = (r.status, dict(r.getheaders()), r.read().decode())
    conn.close()
    return out


def new_contact(api, address, **fields):
    body = {"email": address, **fields}
    r = api.post("/api/v1/contacts", body)
    assert r.status == 201, r
    return r.json()["id"]


def test_preference_center_changes_are_recorded_with_consent_and_events(data_dir):
    srv, api = start(data_dir)
    try:
        setup_shop(api, double_opt_in=())
        cid = new_contact(api, "ada@example.com", locale="fr", attributes={"first_name": "Ada"})
        r = api.put(f"/api/v1/contacts/{cid}/subscriptions/news", {"status": "subscribed"})
        assert r.status == 200, r
        msg = send_news(api, data_dir, cid)
        # One-click unsubscribe stays in the headers; the preference link sits beside it, unrewritten.
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/u/" in msg["List-Unsubscribe"]
        path = link_to(msg, "p")

        status, headers, page = call(srv, "GET", path)
        assert status == 200
        assert headers["Content-Type"].startswith("text/html")
        assert '<html lang="fr">' in page and "Vos préférences" in page and "Tea Shop" in page
        assert 'value="news" checked' in page and 'value="offers">' in page
        assert "<script" not in page and "src=" not in page
        assert "default-src 'none'" in headers["Content-Security-Policy"]

        # Leave news, join offers, a weekly digest, a new name and time zone, English pages.
        status, _, page = call(srv, "POST", path, {"topic": ["offers"], "frequency": "weekly",
                                                   "first_name": "Ada", "last_name": "Lovelace",
                                                   "locale": "en", "timezone": "Europe/London"})
        assert status == 200, page
        assert "Your choices are saved." in page and '<html lang="en">' in page
        assert subscribed(api, cid) == ["offers"]
        ledger = consents(api, cid)
        mine = [c for c in ledger["data"] if c["source"] == "preference_center"]
        assert {(c["topic"], c["action"]) for c in mine} == {("news", "withdrawn"), ("offers", "granted")}
        for c in mine:
            assert c["ip"] == "203.0.113.0"  # truncated as the tracking endpoints truncate
            assert c["user_agent"] == BROWSER
            assert c["text_version"] == "preferences-1.fr"  # the wording the page showed
        assert ledger["granted"] == ["offers"]
        assert ledger["preferences"] == {"frequency": "weekly", "paused_until": None}
        names = [e["name"] for e in events(api, cid)]
        for want in ("topic.unsubscribed", "topic.subscribed", "contact.preferences_changed", "contact.updated"):
            assert want in names, names
        contact = api.get(f"/api/v1/contacts/{cid}").json()
        assert contact["timezone"] == "Europe/London" and contact["locale"] == "en"
        assert contact["attributes"]["last_name"] == "Lovelace"

        # A bad time zone is shown back on the page, nothing saved.
        status, _, page = call(srv, "POST", path, {"topic": ["offers"], "frequency": "weekly",
                                                   "timezone": "Mars/Olympus"})
        assert status == 422 and 'aria-invalid="true"' in page and 'role="alert"' in page

        # The ledger is in the export.
        export = api.get(f"/api/v1/contacts/{cid}/export").json()
        assert [c["action"] for c in export["consent_ledger"]] == [c["action"] for c in ledger["data"]]
        assert export["preferences"]["frequency"] == "weekly"

        # A GET never changes anything; a forged token is a 404 that says nothing.
        assert call(srv, "GET", path[:-2] + ("AA" if not path.endswith("AA") else "BB"))[0] == 404
        assert call(srv, "POST", "/p/nonsense", {"frequency": "pause-30"})[0] == 404
    finally:
        srv.stop()


def test_a_paused_contact_gets_no_marketing_mail(data_dir):
    srv, api = start(data_dir)
    try:
        setup_shop(api, double_opt_in=())
        cid = new_contact(api, "grace@example.com")
        assert api.put(f"/api/v1/contacts/{cid}/subscriptions/news", {"status": "subscribed"}).status == 200
        path = link_to(send_news(api, data_dir, cid), "p")
        status, _, page = call(srv, "POST", path, {"topic": ["news"], "frequency": "pause-30"})
        assert status == 200, page
        assert 'value="keep" checked' in page  # "paused until ..." shown as the current choice
        prefs = consents(api, cid)["preferences"]
        assert prefs["paused_until"] is not None
        before = mail_files(data_dir)
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": cid, "class": "marketing",
                                          "topic": "news"})
        assert r.status == 422, r
        assert r.json()["error"]["code"] == "suppressed" and "paused" in r.json()["error"]["message"]
        # Order mail still goes.
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": cid})
        assert r.status == 202, r
        wait_new_mail(data_dir, before)
        # Choosing a frequency again ends the pause.
        status, _, _ = call(srv, "POST", path, {"topic": ["news"], "frequency": "everything"})
        assert status == 200
        assert consents(api, cid)["preferences"]["paused_until"] is None
        assert api.post("/api/v1/messages", {"template": "news", "contact_id": cid, "class": "marketing",
                                             "topic": "news"}).status == 202
    finally:
        srv.stop()


def test_double_opt_in_confirms_once_and_its_link_expires(data_dir):
    srv, api = start(data_dir, RAPPORT_CONSENT_CONFIRM_TTL_SECONDS="4")
    try:
        setup_shop(api)
        before = mail_files(data_dir)
        status, _, body = call(srv, "POST", "/api/v1/subscribe",
                               '{"email":"lin@example.com","topics":["news","offers"],"first_name":"Lin",'
                               '"consent_text_version":"signup-form-2"}', content_type="application/json")
        assert status == 202, body
        mail = wait_new_mail(data_dir, before)
        assert "confirm" in mail["Subject"].lower()
        assert "List-Unsubscribe" not in mail  # transactional lane
        cid = contact_by_email(api, "lin@example.com")["id"]
        assert subscribed(api, cid) == ["news"]  # news at once; offers waits for the link
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": cid, "class": "marketing",
                                          "topic": "offers"})
        assert r.status == 422 and r.json()["error"]["code"] == "suppressed", r

        path = confirm_link(mail)
        status, _, page = call(srv, "GET", path)
        assert status == 200 and "<form method=\"post\">" in page and "Offers" in page
        assert subscribed(api, cid) == ["news"]  # a GET (a link scanner) confirms nothing
        status, _, page = call(srv, "POST", path, forwarded="198.51.100.23")
        assert status == 200 and "confirmed" in page, page
        assert subscribed(api, cid) == ["news", "offers"]
        assert call(srv, "POST", path)[0] == 200  # twice: nothing more
        ledger = consents(api, cid)["data"]
        offers = [(c["action"], c["source"], c["ip"], c["text_version"]) for c in ledger if c["topic"] == "offers"]
        assert offers == [("requested", "form:subscribe", "203.0.113.0", "signup-form-2"),
                          ("confirmed", "double_opt_in", "198.51.100.0", "preferences-1.en")]
        names = [e["name"] for e in events(api, cid)]
        assert "consent.requested" in names and names.count("topic.subscribed") == 2

        # Another sign-up, confirmed too late.
        before = mail_files(data_dir)
        status, _, _ = call(srv, "POST", "/api/v1/subscribe", {"email": "late@example.com", "topic": "offers"},
                            forwarded="203.0.113.78")
        assert status == 200
        late = confirm_link(wait_new_mail(data_dir, before))
        wait_seconds(5)
        status, _, page = call(srv, "POST", late)
        assert status in (404, 410), page
        late_id = contact_by_email(api, "late@example.com")["id"]
        assert subscribed(api, late_id) == []
        assert [c["action"] for c in consents(api, late_id)["data"]] == ["requested"]
    finally:
        srv.stop()


def test_subscribe_is_rate_limited_and_drops_bots_and_erased_addresses(data_dir):
    srv, api = start(data_dir, RAPPORT_CONSENT_SUBSCRIBES_PER_MINUTE="3")
    try:
        setup_shop(api, double_opt_in=())
        # A bot fills the hidden field: the same answer, nothing written.
        status, headers, page = call(srv, "POST", "/api/v1/subscribe",
                                     {"email": "bot@example.com", "topic": "news", "website": "http://spam"},
                                     forwarded="192.0.2.10")
        assert status == 200 and "Check your inbox" in page and headers["Content-Type"].startswith("text/html")
        assert contact_by_email(api, "bot@example.com") is None
        status, _, _ = call(srv, "POST", "/api/v1/subscribe", {"email": "amy@example.com", "topic": "news"},
                            forwarded="192.0.2.10")
        assert status == 200
        amy = contact_by_email(api, "amy@example.com")
        assert subscribed(api, amy["id"]) == ["news"]
        # Bad input is a JSON error.
        status, _, body = call(srv, "POST", "/api/v1/subscribe", {"email": "nope", "topic": "news"},
                               forwarded="192.0.2.10")
        assert status == 422 and '"field":"email"' in body
        # The fourth from the same address within the minute: 429 with Retry-After.
        status, headers, body = call(srv, "POST", "/api/v1/subscribe", {"email": "x@example.com", "topic": "news"},
                                     forwarded="192.0.2.10")
        assert status == 429 and int(headers["Retry-After"]) >= 1 and "too_many_requests" in body
        # Another address is not limited by it.
        assert call(srv, "POST", "/api/v1/subscribe", {"email": "bo@example.com", "topic": "news"},
                    forwarded="192.0.2.11")[0] == 200

        # An erased address: the same answer, nothing written, unless it consents anew.
        assert api.delete(f"/api/v1/contacts/{amy['id']}?erase=true").status in (200, 204)
        assert call(srv, "POST", "/api/v1/subscribe", {"email": "amy@example.com", "topic": "news"},
                    forwarded="192.0.2.12")[0] == 200
        assert contact_by_email(api, "amy@example.com") is None
        assert call(srv, "POST", "/api/v1/subscribe",
                    {"email": "amy@example.com", "topic": "news", "reconsent": "true"},
                    forwarded="192.0.2.12")[0] == 200
        again = contact_by_email(api, "amy@example.com")
        assert again is not None and again["id"] != amy["id"]
        assert subscribed(api, again["id"]) == ["news"]
    finally:
        srv.stop()


def test_an_unsubscribe_link_is_a_withdrawal_in_the_ledger(data_dir):
    srv, api = start(data_dir)
    try:
        setup_shop(api, double_opt_in=())
        cid = new_contact(api, "joe@example.com")
        assert api.put(f"/api/v1/contacts/{cid}/subscriptions/news", {"status": "subscribed"}).status == 200
        msg = send_news(api, data_dir, cid)
        path = urllib.parse.urlparse(msg["List-Unsubscribe"].split("<")[1].split(">")[0]).path
        status, _, _ = call(srv, "POST", path, "List-Unsubscribe=One-Click")
        assert status == 200
        last = consents(api, cid)["data"][-1]
        assert last["topic"] is None and last["action"] == "withdrawn"
        assert last["source"] == "unsubscribe_link:one-click" and last["ip"] == "203.0.113.0"
        assert consents(api, cid)["granted"] == []
    finally:
        srv.stop()


def test_the_pages_name_the_sender_the_message_came_from(data_dir):
    srv, api = start(data_dir)  # the configured [sender] is "Tea Shop"
    try:
        setup_shop(api, double_opt_in=())
        senders = {}
        for name, address in (("Tea Club", "club@shop.example"), ("Coffee Corner", "coffee@shop.example")):
            r = api.post("/api/v1/senders", {"name": name, "email": address, "default": name == "Tea Club"})
            assert r.status == 201, r
            senders[name] = r.json()["id"]
        cid = new_contact(api, "mia@example.com")

        def mail_from(sender=None):
            # Transactional: a sender identity needs no postal address or DKIM key for it, and the
            # template still carries the unsubscribe and preference links.
            before = mail_files(data_dir)
            body = {"template": "news", "contact_id": cid}
            if sender is not None:
                body["from"] = senders[sender]
            r = api.post("/api/v1/messages", body)
            assert r.status == 202, r
            return wait_new_mail(data_dir, before)

        def pages(msg):
            out = []
            for kind in ("u", "p"):
                status, _, page = call(srv, "GET", link_to(msg, kind))
                assert status == 200, page
                out.append(page)
            return out

        coffee = mail_from("Coffee Corner")
        assert "coffee@shop.example" in coffee["From"]
        for page in pages(coffee):
            assert "Coffee Corner" in page and "Tea Club" not in page and "Tea Shop" not in page, page
        tea = mail_from()  # no "from": the workspace's default sender
        assert "club@shop.example" in tea["From"]
        for page in pages(tea):
            assert "Tea Club" in page and "Coffee Corner" not in page, page

        # The sender identity deleted since: its message's pages name the default sender.
        assert api.delete(f"/api/v1/senders/{senders['Coffee Corner']}").status == 204
        for page in pages(coffee):
            assert "Tea Club" in page and "Coffee Corner" not in page, page

        # The unsubscribe itself answers with the message's sender too.
        again = mail_from()
        r = api.post("/api/v1/senders", {"name": "Coffee Corner", "email": "coffee@shop.example"})
        assert r.status == 201, r
        senders["Coffee Corner"] = r.json()["id"]
        coffee = mail_from("Coffee Corner")
        status, _, page = call(srv, "POST", link_to(coffee, "u"), "List-Unsubscribe=One-Click")
        assert status == 200 and "Coffee Corner" in page and "Tea Club" not in page, page
        status, _, page = call(srv, "GET", link_to(again, "u"))  # already unsubscribed: "you are unsubscribed"
        assert status == 200 and "Tea Club" in page and "Coffee Corner" not in page, page
    finally:
        srv.stop()
