#!/usr/bin/python3
"""Verifies every DKIM-Signature of a message with python3-dkim, an independent verifier.

usage: dkim_verify.py MESSAGE_FILE DNS_FILE EXPECTED_SIGNATURES

DNS_FILE holds one TXT record per line: "<name>\t<record>", e.g.
"sel._domainkey.example.com.\tv=DKIM1; k=rsa; p=...". No DNS is queried.
Exit codes: 0 all EXPECTED_SIGNATURES signatures verify; 1 a signature fails or the count
differs; 2 python3-dkim (or PyNaCl for ed25519) is missing or the arguments are wrong.
"""
import sys

try:
    import dkim
except ImportError as e:  # the caller's test must fail, not skip
    print("python3-dkim is not installed: %s" % e, file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        message = f.read()
    records = {}
    with open(sys.argv[2], "rb") as f:
        for line in f.read().splitlines():
            if line.strip():
                name, record = line.split(b"\t", 1)
                records[name.rstrip(b".").lower()] = record
    expected = int(sys.argv[3])

    def dnsfunc(name, timeout=5):
        if isinstance(name, str):
            name = name.encode()
        return records.get(name.rstrip(b".").lower())

    d = dkim.DKIM(message)
    count = sum(1 for k, _ in d.headers if k.lower() == b"dkim-signature")
    if count != expected:
        print("found %d DKIM-Signature headers, expected %d" % (count, expected))
        return 1
    ok = True
    for i in range(count):
        try:
            good = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            print("signature %d: error %s" % (i, e))
            good = False
        print("signature %d: %s" % (i, "pass" if good else "fail"))
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
