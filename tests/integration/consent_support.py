"""Helpers shared by the consent tests (test_preferences.py, test_public_pages_browser.py):
start a server that writes mail to its maildir, read the mail it wrote, and find its links."""
import email
import email.policy
import glob
import html
import re
import time

from conftest import wait_for
from test_tracking import BROWSER, PUBLIC, start  # noqa: F401 (start, BROWSER and PUBLIC are re-exported)

NEWS = {
    "name": "news",
    "subject": "News for {{ contact.first_name }}",
    "html": "<html><body><p>Hi {{ contact.first_name }}</p>"
            "<p><a href=\"https://shop.example/item\">Item</a></p>"
            "<p><a href=\"{{ preferences_url }}\">Email preferences</a>"
            " <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>",
}


def setup_shop(api, double_opt_in=("offers",)):
    for key, name in (("news", "Weekly news"), ("offers", "Offers")):
        r = api.post("/api/v1/topics", {"key": key, "name": name, "description": f"About {name.lower()}",
                                        "double_opt_in": key in double_opt_in})
        assert r.status == 201, r
    r = api.post("/api/v1/templates", NEWS)
    assert r.status == 201, r


def mail_files(data_dir):
    return set(glob.glob(str(data_dir / "outbox" / "new" / "*.eml")))


def read_mail(path):
    raw = open(path, "rb").read()
    while raw.startswith(b"X-Rapport-Envelope-"):
        raw = raw[raw.index(b"\r\n") + 2:]
    return email.message_from_bytes(raw, policy=email.policy.default)


def wait_new_mail(data_dir, before):
    new = wait_for(lambda: mail_files(data_dir) - before, what="a new .eml in the maildir")
    assert len(new) == 1, new
    return read_mail(new.pop())


def send_news(api, data_dir, contact_id):
    before = mail_files(data_dir)
    r = api.post("/api/v1/messages", {"template": "news", "contact_id": contact_id, "class": "marketing",
                                      "topic": "news"})
    assert r.status == 202, r
    return wait_new_mail(data_dir, before)


def links(msg):
    body = msg.get_body(("html",)).get_content()
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', body)]


def link_to(msg, kind):
    found = [l for l in links(msg) if l.startswith(f"{PUBLIC}/{kind}/")]
    assert found, f"no /{kind}/ link in {links(msg)}"
    return found[0][len(PUBLIC):]


def confirm_link(msg):
    return link_to(msg, "confirm")


def events(api, contact_id):
    return api.get(f"/api/v1/contacts/{contact_id}/events?limit=200").json()["data"]


def consents(api, contact_id):
    r = api.get(f"/api/v1/contacts/{contact_id}/consents")
    assert r.status == 200, r
    return r.json()


def subscribed(api, contact_id):
    subs = api.get(f"/api/v1/contacts/{contact_id}/subscriptions").json()["data"]
    return sorted(s["topic"] for s in subs if s["status"] == "subscribed")


def contact_by_email(api, address):
    data = api.get(f"/api/v1/contacts?email={address}").json()["data"]
    return data[0] if data else None


def wait_seconds(n):
    time.sleep(n)
