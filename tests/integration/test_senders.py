"""Sender identities through the whole binary (issue 19, item 1).

Senders are created over the API; a marketing message names one with "from" and leaves with its
From, Reply-To and postal address (DKIM-signed, verified by python3-dkim); a sender whose domain
has no DKIM key is refused for marketing with the record to publish, never for transactional
mail; `rapport senders check` prints the records and, against a real DNS server on loopback
(tests/integration/dns_server.py), says which are published; `serve --demo` seeds senders and
signs their mail with its own key.
"""
import email
import email.policy
import glob
import html
import os
import re
import subprocess

from conftest import ROOT, Client, Server, create_key, run_cli, wait_for
from dns_server import DnsServer

PY = "/usr/bin/python3"  # Debian's python, with python3-dkim
PUBLIC = "https://mail.shop.example"
POSTAL = "Northwind Outfitters, 12 Harbour St, Portland, ME 04101, USA"
TEMPLATE = {
    "name": "news",
    "subject": "News from {{ sender.name }}",
    "html": "<html><body><p>Hi {{ contact.first_name }}</p>"
            "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>",
}
FOOTER_TEMPLATE = {
    "name": "news-footer",
    "subject": "Footer",
    "html": "<html><body><p>Hi</p><footer>{{ sender.name }}, {{ sender.postal_address }}</footer></body></html>",
    "text": "Hi\n-- \n{{ sender.name }}, {{ sender.postal_address }}\n",
}


def keygen(data_dir, domain="shop.example", selector="s1"):
    key_file = data_dir / f"{domain}-{selector}.pem"
    out = subprocess.run([os.environ.get("RAPPORT_BIN", os.path.join(ROOT, "build", "debug", "rapport")),
                          "dkim", "keygen", "--domain", domain, "--selector", selector, "--out", str(key_file),
                          "--algorithm", "ed25519"], capture_output=True, text=True, check=True).stdout
    txt = "".join(re.findall(r'"([^"]*)"', out.splitlines()[0]))
    return key_file, txt


def dkim_env(key_file, domain="shop.example", selector="s1"):
    return {
        "RAPPORT_SERVER_PUBLIC_URL": PUBLIC,
        "RAPPORT_DKIM_0_DOMAIN": domain,
        "RAPPORT_DKIM_0_SELECTOR": selector,
        "RAPPORT_DKIM_0_KEY_FILE": str(key_file),
        "RAPPORT_DKIM_0_ALGORITHM": "ed25519-sha256",
    }


def start(data_dir, env):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    srv = Server(data_dir, env=env).start()
    return srv, Client(srv.base, admin)


def delivered(api, data_dir, mid, before):
    wait_for(lambda: api.get(f"/api/v1/messages/{mid}").json()["state"] == "sent", what="message sent")
    new = wait_for(lambda: set(glob.glob(str(data_dir / "outbox" / "new" / "*.eml"))) - before, what="the .eml")
    raw = open(new.pop(), "rb").read()
    while raw.startswith(b"X-Rapport-Envelope-"):
        raw = raw[raw.index(b"\r\n") + 2:]
    return raw


def send(api, data_dir, body):
    before = set(glob.glob(str(data_dir / "outbox" / "new" / "*.eml")))
    r = api.post("/api/v1/messages", body)
    assert r.status == 202, r
    raw = delivered(api, data_dir, r.json()["id"], before)
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def test_senders_crud_from_header_postal_footer_and_the_dkim_refusal(data_dir):
    key_file, txt = keygen(data_dir)
    srv, api = start(data_dir, dkim_env(key_file))
    try:
        assert api.post("/api/v1/templates", TEMPLATE).status == 201
        assert api.post("/api/v1/templates", FOOTER_TEMPLATE).status == 201
        ada = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}})
        ada = ada.json()["id"]

        news = api.post("/api/v1/senders", {"name": "Northwind Outfitters", "email": "news@Shop.Example",
                                            "reply_to": {"email": "help@shop.example", "name": "Northwind Help"},
                                            "postal_address": POSTAL})
        assert news.status == 201, news
        news = news.json()
        assert news["email"] == "news@shop.example" and news["domain"] == "shop.example"
        assert news["default"] is True  # the workspace's first
        other = api.post("/api/v1/senders", {"name": "Billing", "email": "billing@other.example",
                                             "postal_address": POSTAL}).json()
        assert other["default"] is False
        assert [s["id"] for s in api.get("/api/v1/senders").json()["data"]] == [news["id"], other["id"]]
        assert api.get(f"/api/v1/senders/{other['id']}").json()["email"] == "billing@other.example"

        # Errors are JSON and name the field; CR/LF never gets in.
        bad = api.post("/api/v1/senders", {"name": "Evil\r\nBcc: x@example.com", "email": "x@shop.example"})
        assert bad.status == 422 and bad.json()["error"]["field"] == "name", bad
        bad = api.post("/api/v1/senders", {"email": "no-at-sign"})
        assert bad.status == 422 and bad.json()["error"]["field"] == "email", bad
        dup = api.post("/api/v1/senders", {"email": "NEWS@shop.example"})
        assert dup.status == 409 and dup.json()["error"]["field"] == "email", dup
        assert api.get("/api/v1/senders/9999").status == 404
        assert api.post("/api/v1/senders", {"email": "a@shop.example", "colour": "red"}).status == 422

        # A marketing message from a sender by address: its From, Reply-To, and the postal
        # address added as a footer; signed by the domain's key.
        raw, msg = send(api, data_dir, {"template": "news", "contact_id": ada, "class": "marketing",
                                        "from": "news@shop.example"})
        assert msg["From"] == "Northwind Outfitters <news@shop.example>"
        assert msg["Reply-To"] == "Northwind Help <help@shop.example>"
        assert msg["Subject"] == "News from Northwind Outfitters"
        body = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        assert POSTAL in body and POSTAL in text
        assert body.index(POSTAL) < body.index("</body>")
        path = data_dir / "message.eml"
        path.write_bytes(raw)
        verify = subprocess.run([PY, os.path.join(ROOT, "tests/smtp/verify_dkim.py"), str(path), txt],
                                capture_output=True, text=True)
        assert verify.returncode == 0, verify.stdout + verify.stderr

        # A template that shows the address itself gets no second copy.
        _, msg = send(api, data_dir, {"template": "news-footer", "contact_id": ada, "class": "marketing",
                                      "from": news["id"]})
        assert msg.get_body(("html",)).get_content().count(POSTAL) == 1
        assert msg.get_body(("plain",)).get_content().count(POSTAL) == 1

        # No DKIM key for other.example: marketing refused, saying what to publish.
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": ada, "class": "marketing",
                                          "from": other["id"]})
        assert r.status == 422, r
        err = r.json()["error"]
        assert err["field"] == "from"
        assert "rapport._domainkey.other.example" in err["message"] and "[[dkim]]" in err["message"], err
        # ... transactional mail is not, and carries no postal footer.
        _, msg = send(api, data_dir, {"template": "news", "contact_id": ada, "from": "billing@other.example"})
        assert msg["From"] == "Billing <billing@other.example>"
        assert "Reply-To" not in msg
        assert POSTAL not in msg.get_body(("html",)).get_content()

        # Unknown senders are 422 naming "from"; no "from" means the default sender.
        for unknown in ("nobody@shop.example", 9999):
            r = api.post("/api/v1/messages", {"template": "news", "contact_id": ada, "from": unknown})
            assert r.status == 422 and r.json()["error"]["field"] == "from", r
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": ada, "from": "not an address"})
        assert r.status == 422 and r.json()["error"]["field"] == "from", r
        _, msg = send(api, data_dir, {"template": "news", "contact_id": ada})
        assert msg["From"] == "Northwind Outfitters <news@shop.example>"

        # PUT replaces; making another the default moves the flag; DELETE removes.
        upd = api.put(f"/api/v1/senders/{other['id']}", {"name": "Billing Dept", "email": "billing@other.example",
                                                         "default": True})
        assert upd.status == 200 and upd.json()["default"] is True and upd.json()["postal_address"] == ""
        assert api.get(f"/api/v1/senders/{news['id']}").json()["default"] is False
        # Its postal address cleared: marketing refused for that first.
        r = api.post("/api/v1/messages", {"template": "news", "contact_id": ada, "class": "marketing"})
        assert r.status == 422 and "postal address" in r.json()["error"]["message"], r
        assert api.delete(f"/api/v1/senders/{other['id']}").status == 204
        assert api.get(f"/api/v1/senders/{other['id']}").status == 404
    finally:
        srv.stop()


def check(data_dir, env, *args):
    return run_cli("senders", "check", *args, data=data_dir, env=env, check=False)


def test_senders_check_prints_the_records_and_finds_them_on_a_dns_server(data_dir):
    key_file, txt = keygen(data_dir)
    env = dkim_env(key_file)
    run_cli("migrate", data=data_dir)
    added = run_cli("senders", "add", "--email", "news@shop.example", "--name", "Northwind",
                    "--postal-address", POSTAL, data=data_dir, env=env)
    assert "news@shop.example" in added.stdout and "default" in added.stdout
    run_cli("senders", "add", "--email", "hello@other.example", "--postal-address", POSTAL, data=data_dir, env=env)
    listed = run_cli("senders", "list", data=data_dir).stdout
    assert "news@shop.example" in listed and "hello@other.example" in listed

    out = check(data_dir, env)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    # The DKIM record is the configured key's, as keygen printed it.
    line = next(l for l in text.splitlines() if l.strip().startswith("s1._domainkey.shop.example. IN TXT"))
    assert "".join(re.findall(r'"([^"]*)"', line)) == txt
    assert 'shop.example. IN TXT "v=spf1 ip4:<SENDING-IP> ~all"' in text
    assert '_dmarc.shop.example. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@shop.example' in text
    # other.example has no key: the suggested record and what to run.
    assert "rapport._domainkey.other.example" in text and "NO KEY IS CONFIGURED for other.example" in text
    for item in ("One-click unsubscribe (RFC 8058)", "Spam rate under 0.3%", "Forward and reverse DNS",
                 "[x] DKIM: mail from shop.example", "[ ] DKIM: mail from other.example"):
        assert item in text, item

    zone = {
        "s1._domainkey.shop.example": [txt],
        "shop.example": ["google-site-verification=abc", "v=spf1 ip4:192.0.2.10 ~all"],
    }
    with DnsServer(zone) as dns:
        out = check(data_dir, env, "--resolver", dns.address)
        assert out.returncode == 1, out.stdout + out.stderr  # DMARC and other.example are missing
        text = out.stdout
        section = text[text.index("== shop.example =="):]
        assert f"DNS ({dns.address}): matches" in section
        assert "present: \"v=spf1 ip4:192.0.2.10 ~all\"" in section
        dmarc = section[section.index("DMARC:"):]
        assert f"DNS ({dns.address}): missing" in dmarc.splitlines()[3], dmarc
        assert "s1._domainkey.shop.example" in dns.queries and "_dmarc.shop.example" in dns.queries
        assert "some records are missing or differ" in text

        # Published: the DMARC record; another key at the DKIM name is "differs".
        dns.zone["_dmarc.shop.example"] = ["v=DMARC1; p=none; rua=mailto:d@shop.example"]
        run_cli("senders", "add", "--email", "x@shop.example", data=data_dir)  # same domain only
        other_key, other_txt = keygen(data_dir, "shop.example", "s2")
        dns.zone["s1._domainkey.shop.example"] = [other_txt]
        text = check(data_dir, env, "--resolver", dns.address).stdout
        assert "differs" in text and "not the configured key's public half" in text
        dns.zone["s1._domainkey.shop.example"] = [txt]
        text = check(data_dir, env, "--resolver", dns.address).stdout
        assert "policy p=none, reports to mailto:d@shop.example" in text

    # With only shop.example's sender left, everything is published.
    ids = [l.split()[0] for l in run_cli("senders", "list", data=data_dir).stdout.splitlines()
           if "other.example" in l]
    assert ids
    with DnsServer(dict(zone, **{"_dmarc.shop.example": ["v=DMARC1; p=none"]})) as dns:
        key = create_key(data_dir, "admin", "cleanup")
        srv = Server(data_dir, env=env).start()
        try:
            assert Client(srv.base, key).delete(f"/api/v1/senders/{ids[0]}").status == 204
        finally:
            srv.stop()
        out = check(data_dir, env, "--resolver", dns.address)
        assert out.returncode == 0, out.stdout
        assert "every record is published" in out.stdout
    # A resolver that does not answer is said so, not taken for "missing".
    with DnsServer({}) as dns:
        port = dns.port
    out = check(data_dir, env, "--resolver", f"127.0.0.1:{port}")
    assert out.returncode == 1 and "not checked" in out.stdout, out.stdout
    bad = check(data_dir, env, "--resolver", "dns.example")
    assert bad.returncode == 1 and "IPv4" in bad.stderr


def test_demo_senders_sign_and_show_their_postal_address(data_dir):
    run_cli("migrate", data=data_dir)
    srv = Server(data_dir, extra_args=["--demo"]).start()
    try:
        key = next(line.split("admin API key:")[1].strip() for line in srv.read_log().splitlines()
                   if "admin API key:" in line)
        api = Client(srv.base, key)
        senders = api.get("/api/v1/senders").json()["data"]
        assert [s["email"] for s in senders] == ["news@shop.example", "orders@shop.example"]
        assert senders[0]["default"] and senders[0]["postal_address"]
        assert (data_dir / "demo-dkim-shop.example.pem").exists()
        assert oct(os.stat(data_dir / "demo-dkim-shop.example.pem").st_mode & 0o777) == "0o600"
        # The demo's welcome mail went out from the default sender, signed, with the address.
        files = wait_for(lambda: glob.glob(str(data_dir / "outbox" / "new" / "*.eml")), what="demo mail")
        raw = open(files[0], "rb").read()
        while raw.startswith(b"X-Rapport-Envelope-"):
            raw = raw[raw.index(b"\r\n") + 2:]
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert "news@shop.example" in msg["From"] and "Northwind Tea & Coffee" in msg["From"]
        assert "d=shop.example" in msg["DKIM-Signature"].replace(" ", "")
        assert "s=demo" in msg["DKIM-Signature"].replace(" ", "")
        postal = senders[0]["postal_address"]
        assert postal in html.unescape(msg.get_body(("html",)).get_content())
        assert postal in msg.get_body(("plain",)).get_content()
    finally:
        srv.stop()
    out = run_cli("senders", "check", data=data_dir).stdout
    assert "demo._domainkey.shop.example. IN TXT" in out and "k=ed25519" in out
