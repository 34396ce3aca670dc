"""Bounces and complaints through the whole binary (issue 16 item 6): a message delivered to the
maildir outbox carries a VERP envelope sender; a DSN or ARF report written from the samples in
tests/feedback/, addressed to that sender, is read from the inbound maildir or posted to
POST /api/v1/feedback, and the contact, the message and the deliverability report follow."""
import glob
import os

from conftest import ROOT, Client, Server, create_key, run_cli, wait_for

TEMPLATE = {"name": "news", "subject": "News", "html": "<p>Hello</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>"}
SAMPLES = os.path.join(ROOT, "tests", "feedback")


def start(data_dir, env=None):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    env = dict(env or {})
    env.setdefault("RAPPORT_SENDER_FROM", "Shop <hello@shop.example>")
    env.setdefault("RAPPORT_SENDER_BOUNCE_ADDRESS", "bounces@shop.example")
    srv = Server(data_dir, env=env).start()
    api = Client(srv.base, admin)
    assert api.post("/api/v1/templates", TEMPLATE).status == 201
    return srv, api


def send(api, data_dir, email, cls="transactional"):
    """Sends the template to `email`; returns (message id, contact id, VERP envelope sender)."""
    c = api.post("/api/v1/contacts", {"email": email})
    assert c.status in (200, 201), c
    cid = c.json()["id"]
    before = set(glob.glob(str(data_dir / "outbox" / "new" / "*.eml")))
    r = api.post("/api/v1/messages", {"template": "news", "contact_id": cid, "class": cls})
    assert r.status == 202, r
    mid = r.json()["id"]
    wait_for(lambda: api.get(f"/api/v1/messages/{mid}").json()["state"] == "sent", timeout=30, what="sent")
    new = wait_for(lambda: set(glob.glob(str(data_dir / "outbox" / "new" / "*.eml"))) - before, timeout=30, what="eml")
    head = open(new.pop(), "rb").read().split(b"\r\n\r\n", 1)[0].decode()
    sender = [l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.startswith("X-Rapport-Envelope-From:")][0]
    return mid, cid, sender


def sample(name, verp):
    with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
        return f.read().replace("bounces@rapport.test", verp)


def status(api, cid):
    return api.get(f"/api/v1/contacts/{cid}").json()["status"]


def timeline(api, cid):
    return [e["name"] for e in api.get(f"/api/v1/contacts/{cid}/events?limit=100").json()["data"]]


def gauge(metrics, name, provider):
    """The value of name{provider="..."} in a /metrics text, None when it is not there."""
    prefix = f'{name}{{provider="{provider}"}} '
    values = [float(l[len(prefix):]) for l in metrics.splitlines() if l.startswith(prefix)]
    assert len(values) <= 1, values
    return values[0] if values else None


def close(a, b):
    return a is not None and abs(a - b) <= 1e-5 * max(abs(b), 1e-9)


def test_verp_sender_and_a_dsn_in_the_inbound_maildir_bounce_the_contact(data_dir):
    inbound = data_dir / "inbound"
    srv, api = start(data_dir, {"RAPPORT_INBOUND_MAILDIR": str(inbound), "RAPPORT_INBOUND_POLL": "1s"})
    try:
        mid, cid, verp = send(api, data_dir, "nobody.here@gmail.com")
        # The envelope sender names the message (signed), on the configured bounce domain.
        assert verp.startswith(f"bounces+1-{mid}-") and verp.endswith("@shop.example"), verp
        assert api.get(f"/api/v1/messages/{mid}").json()["from"] == "bounces@shop.example"

        # The MTA delivers Gmail's "Address not found" to the VERP address.
        (inbound / "new" / "1765000000.M1P1.mx").write_text(sample("gmail_address_not_found.eml", verp))
        wait_for(lambda: status(api, cid) == "bounced", timeout=30, what="the contact to be bounced")
        m = api.get(f"/api/v1/messages/{mid}").json()
        assert m["state"] == "bounced"
        assert "hard_bounce (dsn) 5.1.1" in m["last_reply"], m["last_reply"]
        names = timeline(api, cid)
        assert names.index("contact.status_changed") < names.index("message.bounced"), names  # newest first
        assert glob.glob(str(inbound / "cur" / "1765000000.M1P1.mx:2,S"))

        # A report that names no message of ours is filed aside, flagged.
        (inbound / "new" / "1765000001.M2P1.mx").write_text(sample("gmail_address_not_found.eml", "bounces@x.test"))
        (inbound / "new" / "1765000002.M3P1.mx").write_text(sample("not_a_report.eml", verp))
        wait_for(lambda: len(glob.glob(str(inbound / "cur" / "*:2,FS"))) == 2, timeout=30, what="refused reports filed")

        # Marketing and transactional mail now both refuse the bounced address.
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": cid})
        assert r.status == 422 and r.json()["error"]["code"] == "suppressed", r
        d = api.get("/api/v1/deliverability").json()
        gmail = [p for p in d["providers"] if p["provider"] == "gmail.com"]
        assert gmail and gmail[0]["hard_bounces"] == 1 and gmail[0]["delivered"] == 1, d

        # /metrics counts the maildir's report (only the recorded one) and shows gmail.com's bounce rate.
        metrics = Client(srv.base).get("/metrics").body
        assert 'feedback_reports_total{kind="hard_bounce",provider="gmail.com"} 1\n' in metrics, metrics
        assert metrics.count("feedback_reports_total{") == 1, metrics
        assert gmail[0]["bounce_rate"] > 0
        assert close(gauge(metrics, "rapport_bounce_rate", "gmail.com"), gmail[0]["bounce_rate"]), metrics
        assert gauge(metrics, "rapport_complaint_rate", "gmail.com") == 0, metrics
    finally:
        srv.stop()


def test_feedback_api_blocks_soft_bounces_and_complaints(data_dir):
    srv, api = start(data_dir)
    try:
        # A block about the sender (DMARC) never bounces the contact.
        mid, cid, verp = send(api, data_dir, "someone@gmail.com")
        r = api.post("/api/v1/feedback", {"raw": sample("gmail_dmarc_rejected.eml", verp)})
        assert r.status == 201, r
        assert r.json()["kind"] == "block" and r.json()["failure"] == "sender_auth", r.json()
        assert status(api, cid) == "active"
        assert api.get(f"/api/v1/messages/{mid}").json()["state"] == "failed"
        again = api.post("/api/v1/feedback", {"raw": sample("gmail_dmarc_rejected.eml", verp)})
        assert again.status == 200 and again.json()["duplicate"] is True, again

        # Soft bounces: the third of the contact's last five bounces them.
        ids = [send(api, data_dir, "full.box@yahoo.com") for _ in range(3)]
        for i, (m, c, _) in enumerate(ids):
            assert status(api, c) == "active"
            r = api.post("/api/v1/feedback", {"type": "bounce", "message_id": m, "smtp_code": 552,
                                              "status": "5.2.2", "diagnostic": "Mailbox over quota",
                                              "reporter": "relay"})
            assert r.status == 201 and r.json()["kind"] == "soft_bounce", r
            assert r.json()["soft_bounces_in_window"] == i + 1
        assert status(api, ids[0][1]) == "bounced"

        # A complaint (Yahoo's feedback loop) unsubscribes from marketing; transactional still goes.
        mid, cid, verp = send(api, data_dir, "complainer@yahoo.com")
        r = api.post("/api/v1/feedback", {"type": "complaint", "envelope_sender": verp, "reporter": "yahoo"})
        assert r.status == 201 and r.json()["contact_status"] == "complained", r
        assert "message.complained" in timeline(api, cid)
        assert api.post("/api/v1/messages", {"template": "news", "contact_id": cid, "class": "marketing"}).status == 422
        order = api.post("/api/v1/messages", {"template": "news", "contact_id": cid})
        assert order.status == 202, order
        # Delivered before the rates are read: the API's and the gauges' are read one after the
        # other, and a delivery between them would change one and not the other.
        wait_for(lambda: api.get(f"/api/v1/messages/{order.json()['id']}").json()["state"] == "sent",
                 timeout=30, what="the transactional message sent")

        # One complaint for three delivered messages to yahoo.com is far over 0.3%.
        d = api.get("/api/v1/deliverability").json()
        yahoo = [p for p in d["providers"] if p["provider"] == "yahoo.com"][0]
        assert yahoo["complaints"] == 1 and yahoo["warning"] == "complaints_over_0.3%", yahoo
        assert any(w["provider"] == "yahoo.com" for w in d["warnings"])
        metrics = Client(srv.base).get("/metrics").body
        assert 'feedback_reports_total{kind="complaint",provider="yahoo.com"} 1' in metrics
        # The same rates as gauges (the last 7 days, every workspace), refreshed by the new report.
        assert yahoo["complaint_rate"] > 0.003 and yahoo["bounce_rate"] > 0, yahoo
        assert close(gauge(metrics, "rapport_complaint_rate", "yahoo.com"), yahoo["complaint_rate"]), metrics
        assert close(gauge(metrics, "rapport_bounce_rate", "yahoo.com"), yahoo["bounce_rate"]), metrics
        assert gauge(metrics, "rapport_complaint_rate", "gmail.com") == 0, metrics

        # Refusals: unknown fields, bad types, a forged VERP address, another workspace's message.
        assert api.post("/api/v1/feedback", {"type": "bounce", "message_id": mid, "nope": 1}).status == 422
        assert api.post("/api/v1/feedback", {"type": "spam", "message_id": mid}).status == 422
        forged = verp.replace("-", "-9", 1)
        assert api.post("/api/v1/feedback", {"type": "complaint", "envelope_sender": forged}).status == 404
        assert api.post("/api/v1/feedback", {"type": "bounce", "message_id": 999999, "status": "5.1.1"}).status == 404
        assert api.post("/api/v1/feedback", {"raw": sample("not_a_report.eml", verp)}).status == 422
        assert api.get("/api/v1/deliverability?from=2026-13-01").status == 422
        reader = create_key(data_dir, "read", "reader")
        assert Client(srv.base, reader).post("/api/v1/feedback", {"type": "complaint", "message_id": mid}).status == 403
        # A key of another workspace cannot act on this workspace's message, even with its VERP report.
        import sqlite3
        with sqlite3.connect(str(data_dir / "rapport.db")) as db:  # no CLI makes a workspace yet
            db.execute("INSERT INTO workspaces (name, default_timezone, created_at) VALUES ('other', 'UTC', 0)")
        other = run_cli("keys", "create", "--name", "other", "--scope", "write", "--workspace", "other",
                        data=data_dir).stdout.strip().splitlines()[-1].strip()
        mid3, cid3, verp3 = send(api, data_dir, "third@gmail.com")
        foreign = Client(srv.base, other).post("/api/v1/feedback", {"raw": sample("gmail_address_not_found.eml", verp3)})
        assert foreign.status == 404, foreign
        assert status(api, cid3) == "active" and api.get(f"/api/v1/messages/{mid3}").json()["state"] == "sent"
    finally:
        srv.stop()


def test_export_holds_everything_and_is_recorded(data_dir):
    srv, api = start(data_dir)
    try:
        mid, cid, verp = send(api, data_dir, "ada@gmail.com")
        assert api.post("/api/v1/topics", {"key": "news", "name": "News"}).status == 201
        sub = api.put(f"/api/v1/contacts/{cid}/subscriptions/news", {"status": "subscribed", "consent": {"source": "form:signup", "text_version": "v3"}})
        assert sub.status == 200, sub
        assert api.post("/api/v1/feedback", {"type": "complaint", "message_id": mid}).status == 201
        r = api.get(f"/api/v1/contacts/{cid}/export")
        assert r.status == 200, r
        assert r.headers.get("Cache-Control") == "no-store"
        doc = r.json()
        assert doc["contact"]["email"] == "ada@gmail.com"
        assert [m["id"] for m in doc["messages"]] == [mid]
        assert doc["messages"][0]["attempts"][0]["outcome"] == "sent"
        # The complaint ends the message's record: still delivered, with the complaint as its reply.
        assert doc["messages"][0]["state"] == "sent"
        assert doc["messages"][0]["last_reply"].startswith("complaint (api)"), doc["messages"][0]
        names = [e["name"] for e in doc["events"]]
        assert "message.complained" in names and "contact.created" in names
        assert doc["feedback"][0]["kind"] == "complaint"
        # The subscription and the consent it was given under (docs/api.md), and the ledger's record.
        subs = doc["subscriptions"]
        assert [(x["topic"], x["status"]) for x in subs] == [("news", "subscribed")], subs
        assert subs[0]["consent"]["source"] == "form:signup" and subs[0]["consent"]["text_version"] == "v3", subs
        consents = doc["consents"]
        assert [(x["topic"], x["source"], x["text_version"]) for x in consents] == [("news", "form:signup", "v3")], consents
        assert any(x["topic"] == "news" and x["source"] == "form:signup" and x["text_version"] == "v3"
                   for x in doc["consent_ledger"]), doc["consent_ledger"]
        # The export is on the timeline (and audited); a reader key may not export.
        assert "contact.exported" in timeline(api, cid)
        reader = create_key(data_dir, "read", "reader")
        assert Client(srv.base, reader).get(f"/api/v1/contacts/{cid}/export").status == 403
        assert api.get("/api/v1/contacts/999999/export").status == 404
    finally:
        srv.stop()


def test_the_inbound_smtp_listener_with_swaks_and_starttls(data_dir, tmp_path):
    """swaks (Debian's, without Net::SSLeay, so in clear) and Python's smtplib with STARTTLS
    verifying the configured certificate."""
    import smtplib
    import ssl
    import subprocess
    from conftest import free_port
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mx.shop.example",
                    "-addext", "subjectAltName=DNS:mx.shop.example,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    port = free_port()
    srv, api = start(data_dir, {"RAPPORT_INBOUND_LISTEN": f"127.0.0.1:{port}", "RAPPORT_INBOUND_HOSTNAME": "mx.shop.example",
                                "RAPPORT_INBOUND_TLS_CERT_FILE": str(cert), "RAPPORT_INBOUND_TLS_KEY_FILE": str(key)})
    try:
        mid, cid, verp = send(api, data_dir, "no.account@yahoo.com")
        report = tmp_path / "bounce.eml"
        # The untouched Yahoo sample: only the RCPT TO (the VERP address) names the message.
        with open(os.path.join(SAMPLES, "yahoo_no_account.eml"), encoding="utf-8") as f:
            report.write_text(f.read().replace("\n", "\r\n"))
        out = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--from", "mailer-daemon@yahoo.test",
                              "--to", verp, "--data", "@" + str(report), "--timeout", "20"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "250-STARTTLS" in out.stdout and "mx.shop.example" in out.stdout, out.stdout
        wait_for(lambda: status(api, cid) == "bounced", timeout=30, what="the contact to be bounced over SMTP")
        assert api.get(f"/api/v1/messages/{mid}").json()["state"] == "bounced"

        # A report about nothing of ours is accepted (250: never bounced back to a mailer-daemon).
        stray = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--from", "x@y.test",
                                "--to", "bounces@shop.example", "--data", "@" + str(report), "--timeout", "20"],
                               capture_output=True, text=True, timeout=60)
        assert stray.returncode == 0, stray.stdout + stray.stderr

        # STARTTLS, the certificate verified, then a complaint (Microsoft JMRP) for another message.
        mid2, cid2, verp2 = send(api, data_dir, "someone@hotmail.com")
        context = ssl.create_default_context(cafile=str(cert))
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
            smtp.ehlo("relay.test")
            assert smtp.has_extn("starttls")
            smtp.starttls(context=context)
            smtp.ehlo("relay.test")
            assert not smtp.has_extn("starttls")
            smtp.sendmail("staff@hotmail.test", [verp2], sample("outlook_jmrp_complaint.eml", "nobody@x.test").encode())
        wait_for(lambda: status(api, cid2) == "complained", timeout=30, what="the complaint over STARTTLS")

        # Both recorded reports are counted in /metrics (the stray one is not); hotmail.com is outlook.com.
        complaint = 'feedback_reports_total{kind="complaint",provider="outlook.com"} 1\n'
        metrics = wait_for(lambda: (lambda m: m if complaint in m else None)(Client(srv.base).get("/metrics").body),
                           timeout=30, what="the complaint counted")
        assert 'feedback_reports_total{kind="hard_bounce",provider="yahoo.com"} 1\n' in metrics, metrics
        assert 'feedback_reports_total{kind="complaint",provider="outlook.com"} 1\n' in metrics, metrics
        assert metrics.count("feedback_reports_total{") == 2, metrics
        assert gauge(metrics, "rapport_complaint_rate", "outlook.com") > 0.003, metrics
    finally:
        srv.stop()
