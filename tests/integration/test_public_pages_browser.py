"""The public consent pages in a real browser (issue 16): headless Chromium, driven over the
DevTools protocol with real clicks and typing, opens the unsubscribe page and presses its one
button, changes choices in the preference center and submits its form, and confirms a double
opt-in. The pages have no script: everything a person does here is plain HTML forms.

The test fails when Chromium cannot start (scripts/setup installs Debian's chromium). Screenshots
are written to the test's directory, and to $RAPPORT_SCREENSHOT_DIR when it is set."""
import os
import shutil

from cdp_browser import Browser
from consent_support import (confirm_link, consents, contact_by_email, link_to, mail_files, send_news, setup_shop,
                             start, subscribed, wait_new_mail)


def keep(browser, data_dir, name):
    path = browser.screenshot(str(data_dir / f"{name}.png"))
    assert os.path.getsize(path) > 2000, "an empty screenshot"
    out = os.environ.get("RAPPORT_SCREENSHOT_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, os.path.join(out, f"{name}.png"))


def test_unsubscribe_preferences_and_confirmation_in_a_browser(data_dir):
    srv, api = start(data_dir)
    browser = Browser()
    try:
        setup_shop(api)
        r = api.post("/api/v1/contacts", {"email": "ada@example.com", "locale": "fr",
                                          "attributes": {"first_name": "Ada"}})
        cid = r.json()["id"]
        assert api.put(f"/api/v1/contacts/{cid}/subscriptions/news", {"status": "subscribed"}).status == 200
        msg = send_news(api, data_dir, cid)

        # The preference center, in French: join offers, pause for 30 days, a last name; submit.
        browser.open(srv.base + link_to(msg, "p"))
        assert browser.evaluate("document.documentElement.lang") == "fr"
        assert "Vos préférences" in browser.text() and "Tea Shop" in browser.text()
        assert browser.evaluate("document.scripts.length") == 0
        assert browser.evaluate("document.querySelector('#topic-0').checked") is True
        keep(browser, data_dir, "preferences-before")
        browser.click("#topic-1")  # offers
        browser.click("#frequency-pause-30")
        browser.type_into("#last_name", "Lovelace")
        browser.click("button[type=submit]", navigates=True)
        assert "Vos choix sont enregistrés." in browser.text()
        keep(browser, data_dir, "preferences-saved")
        assert subscribed(api, cid) == ["news", "offers"]
        ledger = consents(api, cid)
        assert ledger["preferences"]["paused_until"] is not None
        assert any(c["topic"] == "offers" and c["source"] == "preference_center" and "Chrome" in c["user_agent"]
                   for c in ledger["data"])
        assert api.get(f"/api/v1/contacts/{cid}").json()["attributes"]["last_name"] == "Lovelace"

        # The unsubscribe page, in French too: one button.
        browser.open(srv.base + link_to(msg, "u"))
        assert browser.evaluate("document.querySelectorAll('button').length") == 1
        keep(browser, data_dir, "unsubscribe")
        browser.click("button", navigates=True)
        assert "Vous êtes désabonné" in browser.text()  # the contact reads French
        keep(browser, data_dir, "unsubscribed")
        assert api.get(f"/api/v1/contacts/{cid}").json()["status"] == "unsubscribed"

        # A double opt-in: sign up, follow the mail's link, press the button.
        before = mail_files(data_dir)
        status = api.post("/api/v1/subscribe", {"email": "lin@example.com", "topics": ["offers"]}, key=None).status
        assert status == 202
        browser.open(srv.base + confirm_link(wait_new_mail(data_dir, before)))
        assert "Confirm your subscription" in browser.text() and "Offers" in browser.text()
        keep(browser, data_dir, "confirm")
        lin = contact_by_email(api, "lin@example.com")["id"]
        assert subscribed(api, lin) == []
        browser.click("button", navigates=True)
        assert "You are subscribed" in browser.text()
        keep(browser, data_dir, "confirmed")
        assert subscribed(api, lin) == ["offers"]
    finally:
        browser.close()
        srv.stop()
