"""Campaigns through the real binary over real HTTP (issue 19): a campaign created through the API
with a segment audience, scheduled now, its messages in the maildir outbox, one per member and none
for a contact outside the segment; the report; the proof; the archive page; settings refused with
their JSON path; kill -9 in the middle of a large send, then a restart: every member mailed
exactly once; the CLI's `rapport campaigns list|send|report` beside a running server; and issue
19's "Done when": a weekly A/B newsletter with a 5% holdout from a chosen sender at each contact's
local time, its report, and its next occurrence a week later.
"""
import glob
import json
import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from conftest import Client, Server, create_key, rapport_bin, run_cli, wait_for

HTTPS = {"RAPPORT_SERVER_PUBLIC_URL": "https://mail.shop.example"}


def outbox(data_dir):
    mails = []
    for path in glob.glob(str(data_dir / "outbox" / "new" / "*")):
        with open(path, "rb") as f:
            mails.append(f.read())
    return mails


def start(data_dir, env=None):
    run_cli("migrate", data=data_dir)
    admin = create_key(data_dir, "admin", "admin")
    srv = Server(data_dir, env={**HTTPS, **(env or {})}).start()
    return srv, Client(srv.base, admin)


def start_with_dkim(data_dir):
    """A server with an ed25519 DKIM key for shop.example (selector s1): senders of that domain may
    send marketing mail."""
    key_file = data_dir / "shop.example-s1.pem"
    subprocess.run([rapport_bin(), "dkim", "keygen", "--domain", "shop.example",
                    "--selector", "s1", "--out", str(key_file), "--algorithm", "ed25519"],
                   capture_output=True, text=True, check=True)
    return start(data_dir, {"RAPPORT_DKIM_0_DOMAIN": "shop.example", "RAPPORT_DKIM_0_SELECTOR": "s1",
                            "RAPPORT_DKIM_0_KEY_FILE": str(key_file),
                            "RAPPORT_DKIM_0_ALGORITHM": "ed25519-sha256"})


def members(api, n, plan, offset=0):
    events = [{"name": "signup", "email": f"m{offset + i}@example.com", "attributes": {"plan": plan}}
              for i in range(n)]
    for at in range(0, len(events), 5000):
        r = api.post("/api/v1/events", {"events": events[at:at + 5000]})
        assert r.status == 202 and r.json()["accepted"] == len(events[at:at + 5000]), r


def segment_count(api, sid):
    return api.get(f"/api/v1/segments/{sid}/count").json()["count"]


def test_campaign_to_a_segment_sends_now_and_reports(data_dir):
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", {"name": "news", "subject": "Our news",
                                              "html": "<p>Hello {{ contact.email }}, read <a href=\"https://shop.example/n\">this</a></p>"}).status == 201
        members(api, 5, "pro")
        members(api, 2, "free", offset=100)
        r = api.post("/api/v1/segments", {"name": "pros", "expression": 'plan = "pro"'})
        assert r.status == 201, r
        sid = r.json()["id"]
        wait_for(lambda: segment_count(api, sid) == 5, 30, what="the segment's members")

        bad = api.post("/api/v1/campaigns", {"name": "bad", "template": "news", "audience": {"include_segments": ["pros"]},
                                             "schedule": {"type": "recurring", "rrule": "FREQ=HOURLY", "dtstart": "2026-12-01T10:00"}})
        assert bad.status == 422 and bad.json()["error"]["field"] == "schedule.rrule", bad
        assert api.post("/api/v1/campaigns", {"name": "nothing"}).json()["error"]["field"] == "audience"

        r = api.post("/api/v1/campaigns", {"name": "launch", "template": "news", "archive": True,
                                           "audience": {"include_segments": ["pros"]},
                                           "variants": [{"name": "A"}, {"name": "B", "subject": "Big news"}],
                                           "experiment": {"test_share": 1, "wait_minutes": 0},
                                           "schedule": {"type": "now"}})
        assert r.status == 201, r
        cid = r.json()["id"]
        assert r.json()["state"] == "draft"
        # Lists are {"data": [...]}, like every other list of the API.
        assert [c["id"] for c in api.get("/api/v1/campaigns").json()["data"]] == [cid]
        assert api.get(f"/api/v1/campaigns/{cid}").json()["settings"]["variants"][1]["subject"] == "Big news"
        assert api.put(f"/api/v1/campaigns/{cid}", {"template": "news", "archive": True,
                                                   "audience": {"include_segments": ["pros"]},
                                                   "schedule": {"type": "now"}}).status == 200

        proof = api.post(f"/api/v1/campaigns/{cid}/test", {"to": ["editor@shop.example"]})
        assert proof.status == 202 and proof.json()["items"][0]["queued"], proof
        wait_for(lambda: any(b"editor@shop.example" in m for m in outbox(data_dir)), 30, what="the proof")
        assert any(b"[Proof] Our news" in m for m in outbox(data_dir))

        r = api.post(f"/api/v1/campaigns/{cid}/schedule", {})
        assert r.status == 200 and r.json()["state"] in ("scheduled", "running", "done"), r
        assert api.post(f"/api/v1/campaigns/{cid}/schedule", {}).status == 409

        def campaign_mails():
            return [m for m in outbox(data_dir) if b"Subject: Our news" in m]
        wait_for(lambda: len(campaign_mails()) == 5, 60, what="five campaign messages")
        wait_for(lambda: api.get(f"/api/v1/campaigns/{cid}").json()["state"] == "done", 30, what="the campaign done")
        to = sorted(re.search(rb"^To: (.*)$", m, re.M).group(1).strip() for m in campaign_mails())
        assert to == sorted(f"m{i}@example.com".encode() for i in range(5)), to

        report = api.get(f"/api/v1/campaigns/{cid}/report")
        assert report.status == 200, report
        occ = report.json()["occurrences"]
        assert len(occ) == 1 and occ[0]["recipients"] == 5 and occ[0]["state"] == "done", occ
        assert occ[0]["variants"][0]["sent"] == 5
        assert occ[0]["holdout"]["recipients"] == 0 and occ[0]["lift"] is None

        page = api.get("/archive/default/launch", key=None)
        assert page.status == 200 and "Our news" in page.body and "@example.com" not in page.body, page
        assert api.get("/archive/default/nope", key=None).status == 404
        assert api.get("/api/v1/campaigns/999999").status == 404
        assert api.post(f"/api/v1/campaigns/{cid}/pause", {}).status == 409

        # Morning against evening: variants at a local time of day are kept as given; a time that
        # is not HH:MM is refused with its path.
        r = api.post("/api/v1/campaigns", {"name": "evening", "template": "news",
                                           "audience": {"include_segments": ["pros"]},
                                           "variants": [{"name": "morning", "send_time": "09:00"},
                                                        {"name": "evening", "send_time": "18:00"}]})
        assert r.status == 201, r
        variants = api.get(f"/api/v1/campaigns/{r.json()['id']}").json()["settings"]["variants"]
        assert [v["send_time"] for v in variants] == ["09:00", "18:00"], variants
        bad = api.post("/api/v1/campaigns", {"name": "late", "template": "news",
                                             "audience": {"include_segments": ["pros"]},
                                             "variants": [{"name": "A"}, {"name": "B", "send_time": "25:00"}]})
        assert bad.status == 422 and bad.json()["error"]["field"] == "variants[1].send_time", bad
    finally:
        srv.stop()


def test_kill_9_during_a_large_send_then_restart_mails_each_member_once(data_dir):
    total = 3000
    srv, api = start(data_dir)
    db = str(data_dir / "rapport.db")

    def queued():
        with sqlite3.connect(db, timeout=30) as c:
            return c.execute("SELECT COUNT(*) FROM outbox_messages").fetchone()[0]

    try:
        assert api.post("/api/v1/templates", {"name": "big", "subject": "Big send", "text": "hi"}).status == 201
        members(api, total, "pro")
        r = api.post("/api/v1/segments", {"name": "everyone", "expression": 'plan = "pro"'})
        sid = r.json()["id"]
        wait_for(lambda: segment_count(api, sid) == total, 60, what="the segment's members")
        r = api.post("/api/v1/campaigns", {"name": "big", "template": "big", "audience": {"include_segments": ["everyone"]},
                                           "schedule": {"type": "now"}, "throttle_per_minute": 60000})
        cid = r.json()["id"]
        assert api.post(f"/api/v1/campaigns/{cid}/schedule", {}).status == 200
        wait_for(lambda: 0 < queued(), 60, interval=0.02, what="the first batch")
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(timeout=30)
    finally:
        srv.stop()
    at_kill = queued()
    assert at_kill < total, "everything was sent before the kill: the test would prove nothing"
    restarted = Server(data_dir, env=HTTPS).start()
    try:
        api = Client(restarted.base, api.key)
        wait_for(lambda: queued() >= total, 180, interval=0.2, what=f"all {total} messages after the restart")
        wait_for(lambda: api.get(f"/api/v1/campaigns/{cid}").json()["state"] == "done", 60, what="the campaign done")
        time.sleep(1)
        assert queued() == total, "a member was mailed twice"
        with sqlite3.connect(db, timeout=30) as c:
            twice = c.execute("SELECT contact_id FROM outbox_messages GROUP BY contact_id HAVING COUNT(*) > 1").fetchall()
            states = c.execute("SELECT status, COUNT(*) FROM campaign_recipients GROUP BY status").fetchall()
        assert twice == [] and states == [("queued", total)], (twice, states)
    finally:
        restarted.stop()
    print(f"{at_kill} of {total} messages queued at the kill; all {total} once after the restart")


def test_a_campaign_goes_from_its_sender_with_its_from_name_and_the_governor_skips_past_the_cap(data_dir):
    """The campaign's sender_id, a variant's from_name and its governance reach the one send
    service: the From header is the sender's address under the variant's name, and with a cap of
    one marketing message per day a contact already mailed today is skipped (on_cap "skip"),
    the reason on the message."""
    srv, api = start_with_dkim(data_dir)
    try:
        assert api.post("/api/v1/templates", {"name": "letter", "subject": "Letter",
                                              "html": "<p>Hello</p>"}).status == 201
        r = api.post("/api/v1/senders", {"name": "Northwind", "email": "news@shop.example",
                                         "postal_address": "12 Harbour St, Portland, ME 04101, USA"})
        assert r.status == 201, r
        sender = r.json()["id"]
        members(api, 3, "pro")
        sid = api.post("/api/v1/segments", {"name": "pros", "expression": 'plan = "pro"'}).json()["id"]
        wait_for(lambda: segment_count(api, sid) == 3, 30, what="the segment's members")
        r = api.put("/api/v1/governor", {"enabled": True, "per_day": 1, "per_week": 7, "quiet_hours": None})
        assert r.status == 200, r
        # m0 already had its marketing message today.
        r = api.post("/api/v1/messages", {"template": "letter", "email": "m0@example.com", "class": "marketing",
                                          "from": sender})
        assert r.status == 202, r

        r = api.post("/api/v1/campaigns", {"name": "letters", "template": "letter", "sender_id": sender,
                                           "audience": {"include_segments": ["pros"]},
                                           "variants": [{"name": "A", "from_name": "Ada at Northwind"}],
                                           "governance": {"priority": 0, "on_cap": "skip"},
                                           "schedule": {"type": "now"}})
        assert r.status == 201, r
        cid = r.json()["id"]
        assert api.post(f"/api/v1/campaigns/{cid}/schedule", {}).status == 200
        wait_for(lambda: api.get(f"/api/v1/campaigns/{cid}").json()["state"] == "done", 60, what="the campaign done")

        def campaign_mails():
            return [m for m in outbox(data_dir) if b"Subject: Letter" in m and b"Ada at Northwind" in m]
        wait_for(lambda: len(campaign_mails()) == 2, 60, what="two campaign messages")
        for m in campaign_mails():
            assert re.search(rb"^From: \"?Ada at Northwind\"? <news@shop\.example>", m, re.M), m[:400]
        to = sorted(re.search(rb"^To: (.*)$", m, re.M).group(1).strip() for m in campaign_mails())
        assert to == [b"m1@example.com", b"m2@example.com"], to
        with sqlite3.connect(str(data_dir / "rapport.db"), timeout=30) as c:
            rows = c.execute("SELECT state, last_reply FROM outbox_messages WHERE gov_source = ?",
                             (f"campaign:{cid}",)).fetchall()
        skipped = [r for r in rows if r[0] == "suppressed"]
        assert len(rows) == 3 and len(skipped) == 1, rows
        assert "cap of 1 marketing message per day" in skipped[0][1], skipped
        occ = api.get(f"/api/v1/campaigns/{cid}/report").json()["occurrences"][0]
        groups = occ["variants"] + ([occ["rest"]] if isinstance(occ.get("rest"), dict) else [])
        assert sum(g["skipped"] for g in groups) == 1, occ
    finally:
        srv.stop()


def test_cli_lists_sends_and_reports_a_campaign(data_dir):
    """`rapport campaigns list|send|report` against the data directory of a running server: the list
    shows each campaign's state and occurrences, `send` schedules a draft that the server then
    sends, and `report` prints what the API reports (as a table, and as the same JSON with --json)."""
    srv, api = start(data_dir)
    try:
        assert api.post("/api/v1/templates", {"name": "digest", "subject": "Weekly digest",
                                              "text": "Hello"}).status == 201
        members(api, 3, "pro")
        members(api, 2, "free", offset=100)
        sid = api.post("/api/v1/segments", {"name": "pros", "expression": 'plan = "pro"'}).json()["id"]
        wait_for(lambda: segment_count(api, sid) == 3, 30, what="the segment's members")
        ids = {}
        for name in ("spring", "autumn"):
            r = api.post("/api/v1/campaigns", {"name": name, "template": "digest",
                                               "audience": {"include_segments": ["pros"]},
                                               "schedule": {"type": "now"}})
            assert r.status == 201, r
            ids[name] = r.json()["id"]

        def listed():
            out = run_cli("campaigns", "list", data=data_dir).stdout
            lines = [l.split() for l in out.splitlines() if l.strip()]
            assert lines[0] == ["ID", "NAME", "STATE", "OCCURRENCES", "UPDATED"], out
            return {row[1]: (int(row[0]), row[2], int(row[3])) for row in lines[1:]}

        assert listed() == {"spring": (ids["spring"], "draft", 0), "autumn": (ids["autumn"], "draft", 0)}

        out = run_cli("campaigns", "send", "spring", data=data_dir).stdout
        assert f"campaign {ids['spring']} 'spring' is scheduled" in out, out
        # A campaign already scheduled is not scheduled again; an unknown one is an error.
        assert run_cli("campaigns", "send", "spring", data=data_dir, check=False).returncode != 0
        assert run_cli("campaigns", "report", "nope", data=data_dir, check=False).returncode != 0

        def campaign_mails():
            return [m for m in outbox(data_dir) if b"Subject: Weekly digest" in m]
        wait_for(lambda: len(campaign_mails()) == 3, 60, what="the three messages of the campaign sent by the CLI")
        wait_for(lambda: api.get(f"/api/v1/campaigns/{ids['spring']}").json()["state"] == "done", 30,
                 what="the campaign done")
        to = sorted(re.search(rb"^To: (.*)$", m, re.M).group(1).strip() for m in campaign_mails())
        assert to == [b"m0@example.com", b"m1@example.com", b"m2@example.com"], to
        assert listed() == {"spring": (ids["spring"], "done", 1), "autumn": (ids["autumn"], "draft", 0)}

        # The table, by name and by id.
        out = run_cli("campaigns", "report", "spring", data=data_dir).stdout
        assert f"campaign {ids['spring']} 'spring' (done)" in out, out
        by_id = run_cli("campaigns", "report", str(ids["spring"]), data=data_dir).stdout
        assert f"campaign {ids['spring']} 'spring' (done)" in by_id, by_id
        assert re.search(r"^occurrence 1 at \S+ \(done\), 3 recipients$", out, re.M), out
        rows = {}  # group -> its numbers: recipients, sent, delivered ...
        for line in out.splitlines():
            words = line.split()
            if line.startswith("  ") and words and words[0] in ("variant", "rest", "holdout"):
                n = 2 if words[0] == "variant" else 1
                rows[" ".join(words[:n])] = words[n:]
        assert set(rows) == {"variant A", "rest", "holdout"}, out
        assert float(rows["variant A"][0]) == 3 and float(rows["variant A"][1]) == 3, out  # recipients, sent
        assert float(rows["holdout"][0]) == 0, out

        # --json is the API's report.
        cli = json.loads(run_cli("campaigns", "report", "spring", "--json", data=data_dir).stdout)
        occ = cli["occurrences"]
        assert len(occ) == 1 and occ[0]["recipients"] == 3 and occ[0]["state"] == "done", cli
        assert occ[0]["variants"][0]["name"] == "A" and occ[0]["variants"][0]["sent"] == 3, cli
        api_occ = api.get(f"/api/v1/campaigns/{ids['spring']}/report").json()["occurrences"]
        assert [o["recipients"] for o in api_occ] == [o["recipients"] for o in occ]
        assert [o["variants"][0]["sent"] for o in api_occ] == [o["variants"][0]["sent"] for o in occ]

        # `send` checks the campaign's sender as the API's schedule does: a domain without a DKIM
        # key may not send marketing mail, so the campaign stays a draft and the error says why.
        plain = api.post("/api/v1/senders", {"name": "Plain", "email": "news@nodkim.example",
                                             "postal_address": "1 Main St, Springfield"})
        assert plain.status == 201, plain
        r = api.post("/api/v1/campaigns", {"name": "winter", "template": "digest", "sender_id": plain.json()["id"],
                                           "audience": {"include_segments": ["pros"]},
                                           "schedule": {"type": "now"}})
        assert r.status == 201, r
        refused = run_cli("campaigns", "send", "winter", data=data_dir, check=False)
        assert refused.returncode != 0 and "no DKIM key is configured for nodkim.example" in refused.stderr, refused.stderr
        assert listed()["winter"][1] == "draft"
    finally:
        srv.stop()


def test_a_weekly_ab_newsletter_with_a_holdout_goes_from_its_sender_at_each_contacts_local_time(data_dir):
    """Issue 19's "Done when", through the API: a sender with a DKIM key for its domain; 200
    contacts in a segment, half in Asia/Tokyo and half in Europe/Paris; a weekly campaign at each
    contact's local time (FREQ=WEEKLY, local: true) from that sender, with an A/B subject test and
    a 5% holdout. The rule's wall time is the next minute in Paris, so Tokyo (eight hours ahead)
    is due at once and Paris within a minute (docs/campaigns.md: the occurrence is frozen 14 hours
    before the wall time in UTC, each contact due at it in their own zone). Every contact not held
    out gets exactly one message, from the sender, with its variant's subject, Tokyo's before the
    Paris wall time and Paris's not before it; the holdout gets none; the report shows both
    variants, each one's probability of being best, the decision and the holdout's lift; the
    campaign stays running, its next tick the freeze of the same wall time a week later."""

    srv, api = start_with_dkim(data_dir)
    db = str(data_dir / "rapport.db")
    zones = ("Asia/Tokyo", "Europe/Paris")
    subjects = {"classic": "This week at Northwind", "question": "Ready for this week's coffees?"}
    try:
        assert api.post("/api/v1/templates", {"name": "weekly", "subject": "unused",
                                              "html": "<p>Hello {{ contact.email }}</p>"}).status == 201
        r = api.post("/api/v1/senders", {"name": "Northwind", "email": "news@shop.example",
                                         "postal_address": "12 Harbour St, Portland, ME 04101, USA"})
        assert r.status == 201, r
        sender = r.json()["id"]
        contacts = {}  # id -> (email, zone)
        for i in range(200):
            mail, zone = f"w{i}@example.com", zones[i % 2]
            r = api.post("/api/v1/contacts", {"email": mail, "timezone": zone, "attributes": {"plan": "weekly"}})
            assert r.status == 201, r
            contacts[r.json()["id"]] = (mail, zone)
        assert api.post("/api/v1/contacts", {"email": "outsider@example.com", "timezone": "Asia/Tokyo",
                                             "attributes": {"plan": "none"}}).status == 201
        sid = api.post("/api/v1/segments", {"name": "weekly", "expression": 'plan = "weekly"'}).json()["id"]
        wait_for(lambda: segment_count(api, sid) == 200, 30, what="the segment's 200 members")

        # The wall time: the next whole minute in Paris at least 15 s away.
        paris_now = datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None)
        wall = paris_now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        if wall - paris_now < timedelta(seconds=15):
            wall += timedelta(minutes=1)
        at = {z: wall.replace(tzinfo=ZoneInfo(z)).astimezone(timezone.utc) for z in zones}
        byday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[wall.weekday()]
        r = api.post("/api/v1/campaigns", {
            "name": "weekly-newsletter", "template": "weekly", "sender_id": sender,
            "audience": {"include_segments": ["weekly"]},
            "variants": [{"name": n, "subject": s} for n, s in subjects.items()],
            "experiment": {"test_share": 1, "wait_minutes": 0},
            "holdout_share": 0.05,
            "schedule": {"type": "recurring", "rrule": f"FREQ=WEEKLY;BYDAY={byday};BYHOUR={wall.hour};BYMINUTE={wall.minute}",
                         "dtstart": wall.strftime("%Y-%m-%dT%H:%M"), "timezone": "Europe/Paris", "local": True}})
        assert r.status == 201, r
        cid = r.json()["id"]
        r = api.post(f"/api/v1/campaigns/{cid}/schedule", {})
        assert r.status == 200, r

        # Frozen at once: every member has an arm and is due at the wall time in their own zone.
        wait_for(lambda: api.get(f"/api/v1/campaigns/{cid}").json()["occurrences"], 30, what="the first occurrence")
        with sqlite3.connect(db, timeout=30) as c:
            rows = c.execute("SELECT contact_id, arm, variant, due_at FROM campaign_recipients").fetchall()
        assert sorted(r[0] for r in rows) == sorted(contacts), "the frozen audience is not the segment"
        for contact_id, arm, variant, due_at in rows:
            assert due_at == int(at[contacts[contact_id][1]].timestamp()) * 1_000_000, (contacts[contact_id], due_at)
        held = {contacts[r[0]][0] for r in rows if r[1] == "holdout"}
        treated = {contacts[r[0]][0]: list(subjects)[r[2]] for r in rows if r[1] != "holdout"}
        assert 1 <= len(held) <= 30, f"{len(held)} of 200 held out with a share of 5%"
        assert all(r[1] == "test" for r in rows if r[1] != "holdout"), "test_share 1 leaves no rest"

        def campaign_mails():
            mails = [message_from_bytes(m, policy=policy.default) for m in outbox(data_dir)]
            return [m for m in mails if str(m["Subject"]) in subjects.values()]

        zone_of = dict(contacts.values())

        def mailed_in(zone):
            return {a for a in (m["To"].addresses[0].addr_spec for m in campaign_mails()) if zone_of.get(a) == zone}

        tokyo = {a for a in treated if zone_of[a] == "Asia/Tokyo"}
        wait_for(lambda: mailed_in("Asia/Tokyo") == tokyo, 60, what="Tokyo's messages")
        assert datetime.now(timezone.utc) < at["Europe/Paris"], "Tokyo's messages took until Paris's wall time"
        assert mailed_in("Europe/Paris") == set(), "Paris was mailed before its wall time"

        wait_for(lambda: len(campaign_mails()) >= len(treated), 120, what="every treated contact's message")
        wait_for(lambda: api.get(f"/api/v1/campaigns/{cid}").json()["occurrences"][0]["state"] == "done", 60,
                 what="the occurrence done")
        mails = campaign_mails()
        to = Counter(m["To"].addresses[0].addr_spec for m in mails)
        assert set(to) == set(treated) and set(to.values()) == {1}, to  # once each; none held out or outside
        for m in mails:
            addr = m["To"].addresses[0].addr_spec
            assert str(m["Subject"]) == subjects[treated[addr]], (addr, m["Subject"])
            assert m["From"].addresses[0].addr_spec == "news@shop.example", m["From"]
            assert m["From"].addresses[0].display_name == "Northwind", m["From"]
            sent_at = parsedate_to_datetime(m["Date"])
            if addr in tokyo:
                assert sent_at < at["Europe/Paris"], (addr, m["Date"])
            else:
                assert sent_at >= at["Europe/Paris"], (addr, m["Date"])

        got = api.get(f"/api/v1/campaigns/{cid}").json()
        assert got["state"] == "running" and len(got["occurrences"]) == 1, got  # the schedule goes on
        report = api.get(f"/api/v1/campaigns/{cid}/report")
        assert report.status == 200, report
        occ = report.json()["occurrences"]
        assert len(occ) == 1, occ
        occ = occ[0]
        assert datetime.fromisoformat(occ["scheduled_at"]) == at["Europe/Paris"], occ["scheduled_at"]
        assert occ["recipients"] == 200 and occ["pending"] == 0 and occ["state"] == "done", occ
        assert [v["name"] for v in occ["variants"]] == list(subjects), occ["variants"]
        for v in occ["variants"]:
            n = sum(1 for name in treated.values() if name == v["name"])
            assert n > 0 and v["recipients"] == n and v["sent"] == n and v["skipped"] == 0, v
        assert occ["rest"]["recipients"] == 0, occ["rest"]
        assert occ["holdout"]["recipients"] == len(held) and occ["holdout"]["sent"] == 0, occ["holdout"]
        experiment = occ["experiment"]
        assert set(experiment["probability_best"]) == set(subjects), experiment
        for p in experiment["probability_best"].values():
            assert p is None or 0 <= p <= 1, experiment
        assert isinstance(experiment["winner_probability"], (int, float)), experiment
        # Fewer than 500 per variant: no winner, the fallback (the first) is sent, with the reason.
        assert experiment["leader"] is None and "fallback variant classic" in experiment["reason"], experiment
        assert experiment["decision"] is not None, experiment
        for metric in ("conversion", "revenue_per_recipient"):
            lift = occ["lift"][metric]
            for field in ("treated", "holdout", "absolute", "relative", "low", "high", "probability_positive"):
                assert isinstance(lift[field], (int, float)), (metric, field, lift)

        # The next occurrence is the same wall time a week later: the campaign's tick comes back to
        # freeze it 14 hours before that wall time in UTC.
        next_freeze = wall.replace(tzinfo=timezone.utc) + timedelta(days=7) - timedelta(hours=14)

        def tick_due():
            with sqlite3.connect(db, timeout=30) as c:
                return c.execute("SELECT due_at FROM work_items WHERE queue = 'campaign.tick' AND key = ?",
                                 (f"campaign:{cid}",)).fetchone()
        wait_for(lambda: tick_due() == (int(next_freeze.timestamp()) * 1_000_000,), 30,
                 what=f"the campaign's next tick at {next_freeze.isoformat()}")
    finally:
        srv.stop()
    print(f"{len(held)} of 200 held out; split {Counter(treated.values())}; "
          f"P(best) {experiment['probability_best']}; next tick {next_freeze.isoformat()}")
