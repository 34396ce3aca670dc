"""The send path of the whole binary: POST /api/v1/messages -> outbox -> worker -> transport.

Against real parts only: the maildir outbox with DKIM verified by python3-dkim, a scriptable
python3-aiosmtpd server for 550/451 replies, and Postfix's smtp-sink for a kill -9 in the middle
of 20,000 queued messages.
"""
import email
import email.policy
import glob
import os
import pathlib
import re
import shutil
import tempfile
import signal
import sqlite3
import subprocess
import threading
import time
import http.client
import json

import pytest

from conftest import ROOT, Client, Server, create_key, free_port, rapport_bin, run_cli, wait_for

PY = "/usr/bin/python3"  # Debian's python, with python3-dkim and python3-aiosmtpd
TEMPLATE = {
    "name": "order-shipped",
    "subject": "Order {{ data.order }} shipped",
    "html": "<p>Hi {{ contact.first_name | default: 'friend' }}, order {{ data.order }} is on its way.</p>"
            "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
}


def wait_state(api, message_id, states, timeout=60):
    def check():
        m = api.get(f"/api/v1/messages/{message_id}").json()
        return m if m["state"] in states else None
    return wait_for(check, timeout, what=f"message {message_id} to reach {states}")


def start(data_dir, env):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    srv = Server(data_dir, env=env).start()
    api = Client(srv.base, admin)
    r = api.post("/api/v1/templates", TEMPLATE)
    assert r.status == 201, r
    return srv, api


def contact(api, email_address, **attributes):
    r = api.post("/api/v1/contacts", {"email": email_address, "attributes": attributes})
    assert r.status in (200, 201), r
    return r.json()["id"]


def test_a_message_lands_in_the_outbox_as_a_valid_dkim_signed_eml(data_dir):
    key_file = data_dir / "dkim.pem"
    out = subprocess.run([rapport_bin(), "dkim", "keygen", "--domain", "shop.example", "--selector", "s1",
                          "--out", str(key_file)], capture_output=True, text=True, check=True).stdout
    txt = "".join(re.findall(r'"([^"]*)"', out.splitlines()[0]))
    env = {
        "RAPPORT_SENDER_FROM": "Tea Shop <hello@shop.example>",
        "RAPPORT_SENDER_LIST_ID": "news.shop.example",
        "RAPPORT_SERVER_PUBLIC_URL": "https://mail.shop.example",
        "RAPPORT_DKIM_0_DOMAIN": "shop.example",
        "RAPPORT_DKIM_0_SELECTOR": "s1",
        "RAPPORT_DKIM_0_KEY_FILE": str(key_file),
    }
    srv, api = start(data_dir, env)
    try:
        ada = contact(api, "ada@example.com", first_name="Ada")
        r = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ada, "data": {"order": "A-1"}},
                     headers={"Idempotency-Key": "order-A-1"})
        assert r.status == 202, r
        first = r.json()
        m = wait_state(api, first["id"], {"sent"})
        assert m["delivery_attempts"][0]["remote"] == "maildir"
        assert m["delivery_attempts"][0]["smtp_code"] == 250

        files = glob.glob(str(data_dir / "outbox" / "new" / "*.eml"))
        assert len(files) == 1, files
        raw = open(files[0], "rb").read()
        while raw.startswith(b"X-Rapport-Envelope-"):
            raw = raw[raw.index(b"\r\n") + 2:]
        path = data_dir / "message.eml"
        path.write_bytes(raw)
        verify = subprocess.run([PY, os.path.join(ROOT, "tests/smtp/verify_dkim.py"), str(path), txt],
                                capture_output=True, text=True)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["Subject"] == "Order A-1 shipped"
        assert msg["From"] == "Tea Shop <hello@shop.example>"
        assert "List-Unsubscribe" not in msg, "transactional mail carries no bulk headers"
        assert "Hi Ada" in msg.get_body(("plain",)).get_content()

        # The retry returns the first response and sends nothing twice.
        again = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ada,
                                              "data": {"order": "A-1"}}, headers={"Idempotency-Key": "order-A-1"})
        assert again.status == 202 and again.json() == first
        assert again.headers.get("Idempotent-Replayed") == "true"
        time.sleep(1)
        assert len(glob.glob(str(data_dir / "outbox" / "new" / "*.eml"))) == 1

        # A header value with a line break never reaches a message.
        bad = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ada,
                                            "headers": {"X-Order": "1\r\nBcc: victim@example.org"}})
        assert bad.status == 422 and bad.json()["error"]["field"] == "headers.X-Order", bad

        # Marketing mail: List-Unsubscribe one-click, and the link works.
        r = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ada, "class": "marketing",
                                          "data": {"order": "A-2"}})
        assert r.status == 202, r
        wait_state(api, r.json()["id"], {"sent"})
        newest = max(glob.glob(str(data_dir / "outbox" / "new" / "*.eml")), key=os.path.getmtime)
        mk = email.message_from_bytes(open(newest, "rb").read(), policy=email.policy.default)
        assert mk["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mk["List-Id"] == "<news.shop.example>"
        url = re.search(r"<(https://mail\.shop\.example/u/[^>]+)>", str(mk["List-Unsubscribe"])).group(1)
        local = url.replace("https://mail.shop.example", srv.base)
        assert Client(local).get("", key=None).status == 200
        forged = local[:-3] + ("AAA" if not local.endswith("AAA") else "BBB")
        assert Client(forged).request("POST", "", raw="List-Unsubscribe=One-Click", key=None,
                                      headers={"Content-Type": "application/x-www-form-urlencoded"}).status == 404
        done = Client(local).request("POST", "", raw="List-Unsubscribe=One-Click", key=None,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status == 200, done
        assert api.get(f"/api/v1/contacts/{ada}").json()["status"] == "unsubscribed"
        blocked = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ada, "class": "marketing"})
        assert blocked.status == 422 and blocked.json()["error"]["code"] == "suppressed", blocked
        # Receipts still reach an unsubscribed contact.
        assert api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ada}).status == 202
    finally:
        srv.stop()


@pytest.fixture
def scripted_smtp(tmp_path):
    (tmp_path / "got").mkdir()
    proc = subprocess.Popen([PY, os.path.join(ROOT, "tests/smtp/scripted_server.py"), "--out", str(tmp_path / "got"),
                             "--log", str(tmp_path / "smtp.log")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # it stops when stdin closes
    line = proc.stdout.readline()
    assert line.startswith("READY "), f"scripted_server.py did not start: {line!r}"
    yield int(line.split()[1]), tmp_path / "got"
    proc.stdin.close()
    proc.terminate()
    proc.wait(timeout=10)


def test_smtp_replies_become_sent_deferred_and_bounced(data_dir, scripted_smtp):
    port, got = scripted_smtp
    env = {"RAPPORT_DELIVERY_TRANSPORT": "smtp", "RAPPORT_DELIVERY_SMTP_URL": f"smtp://127.0.0.1:{port}",
           "RAPPORT_DELIVERY_TLS": "none", "RAPPORT_SENDER_FROM": "Shop <hello@shop.example>"}
    srv, api = start(data_dir, env)
    try:
        ids = {}
        for local in ("ok1", "p550gone", "t451busy", "p554policy"):
            cid = contact(api, f"{local}@example.com")
            r = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": cid, "data": {"order": local}})
            assert r.status == 202, r
            ids[local] = (cid, r.json()["id"])

        sent = wait_state(api, ids["ok1"][1], {"sent"})
        assert sent["delivery_attempts"][0]["smtp_code"] == 250
        assert len(os.listdir(got)) == 1

        bounced = wait_state(api, ids["p550gone"][1], {"bounced"})
        attempt = bounced["delivery_attempts"][-1]
        assert attempt["smtp_code"] == 550 and attempt["enhanced_code"] == "5.1.1", attempt
        assert "no such user" in attempt["reply"].lower(), attempt
        assert api.get(f"/api/v1/contacts/{ids['p550gone'][0]}").json()["status"] == "bounced"
        timeline = api.get(f"/api/v1/contacts/{ids['p550gone'][0]}/events").json()["data"]
        assert [e["name"] for e in timeline][:2] == ["message.bounced", "message.queued"], timeline
        # A bounced address gets no more mail, not even transactional.
        again = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ids["p550gone"][0]})
        assert again.status == 422 and again.json()["error"]["code"] == "suppressed"

        # Issue 13 item 5: a policy block fails the message and leaves the contact mailable.
        failed = wait_state(api, ids["p554policy"][1], {"failed"})
        attempt = failed["delivery_attempts"][-1]
        assert attempt["smtp_code"] == 554 and attempt["enhanced_code"] == "5.7.1", attempt
        assert api.get(f"/api/v1/contacts/{ids['p554policy'][0]}").json()["status"] == "active"
        timeline = api.get(f"/api/v1/contacts/{ids['p554policy'][0]}/events").json()["data"]
        assert timeline[0]["name"] == "message.failed", timeline
        assert timeline[0]["properties"]["failure"] == "policy_block", timeline[0]
        assert timeline[0]["properties"]["smtp_step"] == "rcpt_to", timeline[0]
        still = api.post("/api/v1/messages", {"template": "order-shipped", "contact_id": ids["p554policy"][0]})
        assert still.status == 202, still

        deferred = wait_state(api, ids["t451busy"][1], {"deferred"})
        assert deferred["delivery_attempts"][0]["smtp_code"] == 451
        assert deferred["next_attempt_at"] > deferred["updated_at"]
        listed = api.get(f"/api/v1/contacts/{ids['t451busy'][0]}/messages").json()["data"]
        assert [m["id"] for m in listed] == [ids["t451busy"][1]]
    finally:
        srv.stop()


class Sink:
    """Postfix's smtp-sink, dumping every message to its own file."""

    def __init__(self, tmp_path):
        root = os.path.join(ROOT, ".deps", "postfix")
        self.bin = os.path.join(root, "usr", "sbin", "smtp-sink")
        assert os.access(self.bin, os.X_OK), f"{self.bin} is missing: run scripts/setup"
        # smtp-sink runs as nobody, which cannot enter pytest's private tmp_path: a world-readable dir.
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="rapport-sink-"))
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [self.bin, "-u", "nobody", "-d", str(self.dir) + "/%H%M%S.", f"127.0.0.1:{self.port}", "1000"],
            env={"LD_LIBRARY_PATH": os.path.join(root, "usr", "lib", "postfix")})
        wait_for(lambda: self.connectable(), 10, what="smtp-sink")

    def connectable(self):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def orders(self):
        """The order numbers of the received messages, with repeats."""
        found = []
        for path in glob.glob(str(self.dir / "*")):
            with open(path, "rb") as f:
                m = re.search(rb"^Subject: Order (\d+) shipped", f.read(), re.M)
            if m:
                found.append(int(m.group(1)))
        return found

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def post_many(base, key, bodies, threads=4, batch=250):
    """Queues every body through POST /api/v1/messages/batch (`batch` per call) over keep-alive
    connections; returns the per-message statuses."""
    statuses = []
    lock = threading.Lock()

    def worker(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=300)
        mine = []
        for at in range(0, len(chunk), batch):
            conn.request("POST", "/api/v1/messages/batch", json.dumps({"messages": chunk[at:at + batch]}),
                         {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            r = conn.getresponse()
            answer = r.read()
            assert r.status == 200, (r.status, answer[:500])
            mine.extend(item["status"] for item in json.loads(answer)["data"])
        conn.close()
        with lock:
            statuses.extend(mine)

    chunks = [bodies[i::threads] for i in range(threads)]
    ts = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return statuses


def count(db, state):
    with sqlite3.connect(db, timeout=30) as c:
        return c.execute("SELECT COUNT(*) FROM outbox_messages WHERE state = ?", (state,)).fetchone()[0]


def test_kill_9_with_20000_queued_messages_loses_none(data_dir, tmp_path):
    total = 20000
    sink = Sink(tmp_path)
    env = {"RAPPORT_DELIVERY_TRANSPORT": "smtp", "RAPPORT_DELIVERY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}?pool=8",
           "RAPPORT_DELIVERY_TLS": "none", "RAPPORT_SENDER_FROM": "Shop <hello@shop.example>"}
    # The default lease (300 s): the restarted node takes back the killed process's leases at once
    # (its node id), so nothing waits for them to expire, and a loaded machine cannot make a
    # lease lapse while its message is still being sent.
    db = str(data_dir / "rapport.db")
    try:
        # 1. Queue 20,000 messages through the batch API while delivery trickles (20/s).
        srv, api = start(data_dir, {**env, "RAPPORT_DELIVERY_RATE": "20"})
        try:
            with open(tmp_path / "contacts.csv", "w") as f:
                f.write("email\n")
                for i in range(200):
                    f.write(f"buyer{i}@example.com\n")
            run_cli("contacts", "import", str(tmp_path / "contacts.csv"), data=data_dir)
            contacts = [c["id"] for c in api.get("/api/v1/contacts?limit=1000").json()["data"]]
            assert len(contacts) == 200
            bodies = [{"template": "order-shipped", "contact_id": contacts[n % 200], "data": {"order": str(n)}}
                      for n in range(total)]
            statuses = post_many(srv.base, api.key, bodies)
            assert statuses.count(202) == total, {s: statuses.count(s) for s in set(statuses)}
        finally:
            srv.stop()
        queued_at_start = total - count(db, "sent")
        assert queued_at_start > 10000, f"only {queued_at_start} left queued"

        # 2. Deliver at full speed, and kill -9 in the middle.
        srv = Server(data_dir, env={**env, "RAPPORT_DELIVERY_RATE": "100000"}).start()
        start_sent = count(db, "sent")
        wait_for(lambda: count(db, "sent") >= start_sent + 3000, 300, interval=0.02, what="delivery under way")
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(timeout=30)
        srv.stop()
        in_flight = count(db, "sending")
        sent_at_kill = count(db, "sent")
        assert sent_at_kill < total, "nothing was left to deliver after the kill"

        # 3. Restart: everything arrives.
        restarted = Server(data_dir, env={**env, "RAPPORT_DELIVERY_RATE": "100000"}).start()
        try:
            wait_for(lambda: count(db, "sent") == total, 600, interval=0.5, what="every message to be sent")
        finally:
            restarted.stop()
        time.sleep(0.5)
        sink.stop()
        orders = sink.orders()
    finally:
        sink.stop()
        sink.remove()
    assert set(orders) == set(range(total)), f"missing: {sorted(set(range(total)) - set(orders))[:20]}"
    duplicates = len(orders) - total
    print(f"kill -9 at {sent_at_kill} of {total} sent, {in_flight} in flight; {duplicates} duplicates at the sink")
    assert duplicates <= in_flight, f"{duplicates} duplicates, but only {in_flight} messages were in flight"
