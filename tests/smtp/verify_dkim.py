#!/usr/bin/python3
"""Verifies the DKIM signature(s) of a message file with python3-dkim (dkimpy).
usage: verify_dkim.py MESSAGE_FILE TXT_RECORD_VALUE   (the DNS answer is given, no lookup)
Leading X-Envelope-* lines written by scripted_server.py are dropped. Exit 0 when valid."""
import sys
import dkim

raw = open(sys.argv[1], "rb").read()
while raw.startswith(b"X-Envelope-"):
    raw = raw[raw.index(b"\r\n") + 2:]
txt = sys.argv[2].encode()
ok = dkim.verify(raw, dnsfunc=lambda name, timeout=5: txt)
print("dkim=pass" if ok else "dkim=fail")
sys.exit(0 if ok else 1)
