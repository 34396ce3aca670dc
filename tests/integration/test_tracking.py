"""Open and click tracking through the whole binary (issue 16, items 1-3 and 8).

A message is delivered to the maildir; its pixel, links and web view are followed with a real
HTTP client; the opens and clicks appear on the contact's timeline with their machine verdict;
every one-character change of a token is refused; a key rotation keeps old links working; the
tracking switches (template, topic, contact) leave no pixel and no rewritten link.
"""
import email
import email.policy
import glob
import html
import http.client
import os
import re
import time
import urllib.parse

import pytest

from conftest import Client, Server, create_key, run_cli, wait_for, wait_for_hits

PUBLIC = "https://mail.shop.example"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
TEMPLATE = {
    "name": "news",
    "subject": "News for {{ contact.first_name }}",
    "html": "<html><body><p>Hi {{ contact.first_name }}</p>"
            "<p><a href=\"https://shop.example/item?id=1&amp;ref=mail\">Item</a></p>"
            "<p><a href='http://blog.shop.example/post'>Blog</a> <a href=\"mailto:help@shop.example\">Mail us</a>"
            " <a href=\"https://shop.example/secret\" data-rapport-notrack>Private</a></p>"
            "<p><a href=\"{{ view_in_browser_url }}\">View in browser</a>"
            " <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>",
}


def start(data_dir, **env):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    full_env = {
        "RAPPORT_SENDER_FROM": "Tea Shop <hello@shop.example>",
        "RAPPORT_SERVER_PUBLIC_URL": PUBLIC,
        "RAPPORT_SERVER_TRUST_FORWARDED_FOR": "true",
        "RAPPORT_SERVER_PUBLIC_REQUESTS_PER_SECOND": "100000",
    }
    full_env.update(env)
    srv = Server(data_dir, env=full_env).start()
    return srv, Client(srv.base, admin)


def send(api, data_dir, contact_id, **extra):
    before = set(glob.glob(str(data_dir / "outbox" / "new" / "*.eml")))
    body = {"template": "news", "contact_id": contact_id, "class": "marketing"}
    body.update(extra)
    r = api.post("/api/v1/messages", body)
    assert r.status == 202, r
    mid = r.json()["id"]
    wait_for(lambda: api.get(f"/api/v1/messages/{mid}").json()["state"] == "sent", what="message sent")
    sent_at = time.time()
    new = wait_for(lambda: set(glob.glob(str(data_dir / "outbox" / "new" / "*.eml"))) - before, what="the .eml")
    raw = open(new.pop(), "rb").read()
    while raw.startswith(b"X-Rapport-Envelope-"):
        raw = raw[raw.index(b"\r\n") + 2:]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return mid, msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content(), sent_at


def local(srv, url):
    assert url.startswith(PUBLIC + "/"), url
    return url[len(PUBLIC):]


def hit(srv, path, method="GET", ua=BROWSER, forwarded=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    headers = {}
    if ua is not None:
        headers["User-Agent"] = ua
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    conn.request(method, path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    out = (r.status, dict((k.lower(), v) for k, v in r.getheaders()), body)
    conn.close()
    return out


def timeline(api, contact_id, name):
    wait_for_hits(api.base)  # the hits answered so far are events
    events = api.get(f"/api/v1/contacts/{contact_id}/events?limit=1000").json()["data"]
    return [e for e in events if e["name"] == name]


def tracked_links(body):
    return [html.unescape(u) for u in re.findall(r'href="(https://mail\.shop\.example/c/[^"]+)"', body)]


def pixel(body):
    m = re.search(r'<img src="(https://mail\.shop\.example/o/[^"]+)" width="1" height="1"', body)
    return html.unescape(m.group(1)) if m else None


def test_opens_clicks_and_the_web_view_land_on_the_timeline(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()["id"]
        mid, body, text, sent_at = send(api, data_dir, ada)

        # Two http(s) links rewritten; mailto, the marked link and rapport's own pages left alone.
        links = tracked_links(body)
        assert len(links) == 2, body
        assert "mailto:help@shop.example" in body
        assert 'href="https://shop.example/secret"' in body
        assert re.search(r'href="https://mail\.shop\.example/u/', body)
        view = re.search(r'href="(https://mail\.shop\.example/v/[^"]+)"', body).group(1)
        # The text part keeps the original targets.
        assert "https://shop.example/item?id=1&ref=mail" in text
        # The pixel sits before </body>.
        px = pixel(body)
        assert px and body.index(px.replace("&", "&amp;")) < body.lower().rindex("</body>")

        # The open pixel: a 43-byte GIF, never cached; a person's open.
        status, headers, gif = hit(srv, local(srv, px), forwarded="203.0.113.77")
        assert status == 200 and headers["content-type"] == "image/gif" and len(gif) == 43
        assert gif.startswith(b"GIF89a") and "no-store" in headers["cache-control"]
        opens = timeline(api, ada, "email_opened")
        assert len(opens) == 1, opens
        o = opens[0]["properties"]
        assert o["message_id"] == mid and o["machine"] is False and o["user_agent"] == BROWSER
        assert o["ip"] == "203.0.113.0", o  # truncated to its /24

        def segment(expression):
            r = api.post("/api/v1/segments/preview", {"expression": expression})
            assert r.status == 200, r
            return sorted(c["email"] for c in r.json()["sample"])

        # The segment language reads this very event: Ada opened, nobody clicked yet.
        assert segment("opened any message in the last 1 days") == ["ada@example.com"]
        assert segment("clicked any message") == []

        # Apple Mail Privacy Protection: "Mozilla/5.0" from Apple's range, flagged machine.
        status, _, _ = hit(srv, local(srv, px), ua="Mozilla/5.0", forwarded="17.58.63.11")
        assert status == 200
        apple = timeline(api, ada, "email_opened")[0]["properties"]
        assert apple["machine"] is True and apple["machine_reason"] == "apple_mpp" and apple["ip"] == "17.58.63.0"
        # An IPv6 reader is truncated to its /48.
        hit(srv, local(srv, px), forwarded="2001:db8:1234:5678::9")
        assert timeline(api, ada, "email_opened")[0]["properties"]["ip"] == "2001:db8:1234::"

        # A click within seconds of delivery is a scanner's: flagged, and still redirected.
        status, headers, _ = hit(srv, local(srv, links[1]), forwarded="198.51.100.7")
        assert status == 302 and headers["location"] == "http://blog.shop.example/post"
        fast = timeline(api, ada, "email_clicked")[0]["properties"]
        if time.time() - sent_at < 9:
            assert fast["machine"] is True and fast["machine_reason"] == "click_within_seconds_of_delivery", fast
        # A HEAD is a link checker's.
        status, headers, _ = hit(srv, local(srv, links[0]), method="HEAD", forwarded="198.51.100.7")
        assert status == 302
        assert timeline(api, ada, "email_clicked")[0]["properties"]["machine_reason"] == "head_request"

        # A person, later: the click goes where the stored message pointed (entities decoded).
        time.sleep(max(0.0, sent_at + 10.5 - time.time()))
        status, headers, _ = hit(srv, local(srv, links[0]), forwarded="198.51.100.7")
        assert status == 302 and headers["location"] == "https://shop.example/item?id=1&ref=mail"
        assert "no-store" in headers["cache-control"]
        c = timeline(api, ada, "email_clicked")[0]["properties"]
        assert c["link_index"] == 0 and c["url"] == "https://shop.example/item?id=1&ref=mail"
        assert c["machine"] is False and c["message_id"] == mid and c["ip"] == "198.51.100.0"

        # A scanner's user agent still redirects, flagged.
        status, headers, _ = hit(srv, local(srv, links[0]), ua="python-requests/2.31")
        assert status == 302
        assert timeline(api, ada, "email_clicked")[0]["properties"]["machine_reason"] == "scanner_user_agent"

        # The web view: the message's HTML with its tracked links and without the pixel.
        opens_before = len(timeline(api, ada, "email_opened"))
        status, headers, page = hit(srv, local(srv, view))
        assert status == 200 and headers["content-type"].startswith("text/html")
        page = page.decode()
        assert "Hi Ada" in page and "/c/" in page and "/o/" not in page
        assert "default-src 'none'" in headers["content-security-policy"]
        # ... and the view is a hit of its own on the timeline (not an open).
        viewed = timeline(api, ada, "email_viewed")
        assert len(viewed) == 1, viewed
        assert viewed[0]["properties"]["message_id"] == mid and viewed[0]["properties"]["machine"] is False
        assert len(timeline(api, ada, "email_opened")) == opens_before

        # A proxy's fetch is an event, but not engagement: Cy, whose only open is Apple's, is not
        # "opened", and is in a segment that counts every email_opened.
        cy = api.post("/api/v1/contacts", {"email": "cy@example.com"}).json()["id"]
        _, cy_body, _, _ = send(api, data_dir, cy)
        assert hit(srv, local(srv, pixel(cy_body)), ua="Mozilla/5.0", forwarded="17.58.63.11")[0] == 200
        assert timeline(api, cy, "email_opened")[0]["properties"]["machine"] is True
        assert segment("opened any message in the last 1 days") == ["ada@example.com"]
        assert segment("never opened") == ["cy@example.com"]
        assert segment("at least 1 email_opened") == ["ada@example.com", "cy@example.com"]
        assert segment("clicked any message") == ["ada@example.com"]
    finally:
        srv.stop()


def test_a_link_whose_scheme_has_any_letter_case_is_tracked_and_its_click_redirects(data_dir):
    # The rewriter tracks an http(s) link whatever the letter case of its scheme; the click then
    # goes to the target as written (it used to get a 404 unless the scheme was all one case).
    srv, api = start(data_dir)
    try:
        targets = ["Https://Shop.example/Sale?x=1", "hTTp://blog.shop.example/Post"]
        mixed = dict(TEMPLATE, name="mixed",
                     html="<html><body><p>Hi {{ contact.first_name }}</p>"
                          f"<p><a href=\"{targets[0]}\">Sale</a> <a href=\"{targets[1]}\">Blog</a></p>"
                          "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>")
        assert api.post("/api/v1/templates", mixed).status == 201
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()["id"]
        _, body, _, _ = send(api, data_dir, ada, template="mixed")
        links = tracked_links(body)
        assert len(links) == 2, body
        for link, target in zip(links, targets):
            status, headers, _ = hit(srv, local(srv, link), forwarded="198.51.100.7")
            assert status == 302 and headers.get("location") == target, (status, headers, target)
        clicks = timeline(api, ada, "email_clicked")
        assert sorted(c["properties"]["url"] for c in clicks) == sorted(targets), clicks
    finally:
        srv.stop()


def test_every_one_character_change_of_a_token_is_refused_with_a_bare_404(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()["id"]
        _, body, _, _ = send(api, data_dir, ada)
        click = local(srv, tracked_links(body)[0])
        open_path = local(srv, pixel(body))
        before = len(timeline(api, ada, "email_clicked"))
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        for path in (click, open_path):
            prefix, token = path[:3], path[3:]
            assert hit(srv, path, method="HEAD")[0] in (200, 302)
            tried = 0
            for i in range(len(token)):
                for ch in (alphabet[(alphabet.index(token[i]) + 1) % 64], alphabet[(alphabet.index(token[i]) + 33) % 64]):
                    changed = token[:i] + ch + token[i + 1:]
                    status, headers, page = hit(srv, prefix + urllib.parse.quote(changed))
                    assert status == 404, (i, ch, status)
                    assert page == b"Not found\n" and "location" not in headers
                    tried += 1
                status, _, _ = hit(srv, prefix + token[:i] + token[i + 1:])
                assert status == 404, ("deleted", i)
            assert tried == 2 * len(token)
        # A click token is not an open token, and the other way round.
        assert hit(srv, "/o/" + click[3:])[0] == 404
        assert hit(srv, "/c/" + open_path[3:])[0] == 404
        assert hit(srv, "/v/" + click[3:])[0] == 404
        # Only the two HEAD requests above were recorded.
        assert len(timeline(api, ada, "email_clicked")) == before + 1
    finally:
        srv.stop()


def test_a_key_rotation_keeps_links_already_sent_working(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()["id"]
        _, old_body, _, _ = send(api, data_dir, ada)
        old_click = local(srv, tracked_links(old_body)[0])
        old_unsub = local(srv, re.search(r'href="(https://mail\.shop\.example/u/[^"]+)"', old_body).group(1))

        out = run_cli("links", "rotate", data=data_dir).stdout
        assert "key 2 is now current" in out, out
        ring = open(data_dir / "link-keys").read()
        assert re.search(r"^1 \d+ \d+ [0-9a-f]{64,}$", ring, re.M) and re.search(r"^2 \d+ - [0-9a-f]{64}$", ring, re.M)
        assert oct(os.stat(data_dir / "link-keys").st_mode & 0o777) == "0o600"
        time.sleep(1.5)  # the server reloads the ring within a second

        _, new_body, _, _ = send(api, data_dir, ada)
        new_click = local(srv, tracked_links(new_body)[0])
        assert new_click != old_click
        # The token names the key: the second byte of the payload (base64url: 2nd char differs).
        assert hit(srv, old_click)[0] == 302
        assert hit(srv, new_click)[0] == 302
        assert hit(srv, old_unsub)[0] == 200
        keys = run_cli("links", "keys", data=data_dir).stdout
        assert "current" in keys and keys.count("\n") == 3, keys
    finally:
        srv.stop()
    # After a restart the ring is read from the file: the old links still verify.
    srv2 = Server(data_dir, env={"RAPPORT_SERVER_PUBLIC_URL": PUBLIC}).start()
    try:
        assert hit(srv2, old_click)[0] == 302
        assert hit(srv2, new_click)[0] == 302
    finally:
        srv2.stop()


def test_tracking_off_for_a_template_a_topic_or_a_contact_means_no_pixel_and_no_rewrite(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        off = dict(TEMPLATE, name="quiet", tracking=False)
        r = api.post("/api/v1/templates", off)
        assert r.status == 201 and r.json()["tracking"] is False, r
        assert api.post("/api/v1/topics", {"key": "private", "name": "Private", "tracking": False}).status == 201
        assert api.post("/api/v1/topics", {"key": "news", "name": "News"}).json()["tracking"] is True
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()["id"]
        bob = api.post("/api/v1/contacts", {"email": "bob@example.com",
                                            "attributes": {"first_name": "Bob", "tracking": False}}).json()["id"]
        for topic in ("private", "news"):
            for who in (ada, bob):
                assert api.put(f"/api/v1/contacts/{who}/subscriptions/{topic}", {"status": "subscribed"}).status in (200, 201)

        def untracked(body):
            return not tracked_links(body) and pixel(body) is None and \
                'href="https://shop.example/item?id=1&amp;ref=mail"' in body

        _, body, _, _ = send(api, data_dir, ada, template="quiet")
        assert untracked(body), body
        _, body, _, _ = send(api, data_dir, ada, topic="private")
        assert untracked(body), body
        _, body, _, _ = send(api, data_dir, bob, topic="news")
        assert untracked(body), body
        # The web view link still works without tracking.
        view = re.search(r'href="(https://mail\.shop\.example/v/[^"]+)"', body).group(1)
        assert hit(srv, local(srv, view))[0] == 200
        # And with every switch on, the message is tracked.
        _, body, _, _ = send(api, data_dir, ada, topic="news")
        assert len(tracked_links(body)) == 2 and pixel(body)
    finally:
        srv.stop()


def test_update_ranges_replaces_the_apple_ranges_from_a_file_or_over_http(data_dir, tmp_path):
    import subprocess
    import sys
    from conftest import free_port

    run_cli("migrate", data=data_dir)
    csv = tmp_path / "egress-ip-ranges.csv"
    csv.write_text("172.224.224.0/27,GB,GB-EN,London,\n2a02:26f7:b3c0:4000::/64,FR,FR-IDF,Paris,\n")
    out = run_cli("tracking", "update-ranges", "--from", str(csv), data=data_dir).stdout
    assert "2 Apple ranges written" in out, out
    ranges = open(data_dir / "machine-ranges.txt").read()
    assert "apple 172.224.224.0/27\n" in ranges and "apple 2a02:26f7:b3c0:4000::/64\n" in ranges
    assert "apple 17.0.0.0/8" not in ranges and "scanner 40.107.0.0/16" in ranges  # scanners kept
    # A malformed list changes nothing.
    bad = tmp_path / "bad.csv"
    bad.write_text("not-a-prefix,GB\n")
    assert run_cli("tracking", "update-ranges", "--from", str(bad), data=data_dir, check=False).returncode == 1
    assert open(data_dir / "machine-ranges.txt").read() == ranges
    # Fetched over HTTP from [tracking] apple_ranges_url.
    csv.write_text("17.58.0.0/16,US,US-CA,Cupertino,\n")
    port = free_port()
    web = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                           cwd=str(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/egress-ip-ranges.csv"
        deadline = time.time() + 20
        while True:
            proc = run_cli("tracking", "update-ranges", data=data_dir, check=False,
                           env={"RAPPORT_TRACKING_APPLE_RANGES_URL": url})
            if proc.returncode == 0 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert proc.returncode == 0, proc.stderr
        assert "1 Apple ranges written" in proc.stdout
        ranges = open(data_dir / "machine-ranges.txt").read()
        assert "apple 17.58.0.0/16\n" in ranges and "apple 172.224.224.0/27" not in ranges
        missing = run_cli("tracking", "update-ranges", data=data_dir, check=False,
                          env={"RAPPORT_TRACKING_APPLE_RANGES_URL": url + ".missing"})
        assert missing.returncode == 1 and "404" in missing.stderr
    finally:
        web.terminate()
        web.wait()
