#!/usr/bin/python3
"""A scriptable SMTP server for rapport's delivery tests (python3-aiosmtpd; run with /usr/bin/python3).

The recipient's local part chooses what happens to it:
  ok...        250 (default for anything else)
  t451...      451 4.3.0 temporary failure
  t452full...  452 4.2.2 mailbox full
  p550...      550 5.1.1 no such user
  p554...      554 5.7.1 rejected by policy
  (more permanent replies, one per failure class, are in RCPT_REPLIES below)
  c421...      421 4.7.0 and the connection is closed
  stall...     the RCPT reply is delayed by --stall seconds
  dropdata...  the connection is dropped after the message data, before the final reply
  d554...      the final reply to DATA is 554 5.6.0
  dbig...      the final reply to DATA is 552 5.3.4 message too large
Options add STARTTLS (--tls-cert/--tls-key), implicit TLS (--implicit-tls), AUTH (--auth user:pass,
offered only under TLS unless --auth-without-tls), PIPELINING (on unless --no-pipelining), HELO
only (--no-ehlo), a SIZE limit (--size), and --reply STEP=REPLY (repeatable) to answer a protocol
step with a fixed reply: STEP is greeting, ehlo, helo, starttls, auth, mail, data (the DATA
command), rset; e.g. --reply "greeting=421 4.7.0 too busy". Every command is appended to --log as "SESSION COMMAND ARGS"; every accepted
message is written to --out/N.eml. Prints "READY <port>" on stdout once it listens on 127.0.0.1.
"""
import argparse
import asyncio
import itertools
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

SESSION_IDS = itertools.count(1)
MESSAGE_IDS = itertools.count(1)

# Permanent RCPT replies by local-part prefix, longest prefixes first: one per failure class,
# with the texts real providers send.
RCPT_REPLIES = [
    ("p550txt", "550 Requested action not taken: mailbox unavailable"),
    ("p550dmarc", "550 5.7.26 Unauthenticated email from example.com is not accepted due to DMARC policy"),
    ("p552full", "552 5.2.2 The email account that you tried to reach is over quota"),
    ("p550off", "550 5.2.1 The email account that you tried to reach is disabled"),
    ("p554bl", "554 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org"),
    ("p554spam", "550 5.7.1 Our system has detected that this message is likely unsolicited mail"),
    ("p553dom", "550 5.1.2 bad destination system address"),
    ("p550", "550 5.1.1 no such user here"),
    ("p554", "554 5.7.1 rejected by policy"),
]


class Handler:
    def __init__(self, args):
        self.args = args
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def record(self, server, session, *words):
        if self.log:
            sid = getattr(session, "rapport_id", None)
            if sid is None:
                sid = session.rapport_id = next(SESSION_IDS)
            secure = session.ssl or server.transport.get_extra_info("ssl_object") is not None
            tls = "tls" if secure else "plain"
            self.log.write(f"{sid} {tls} {' '.join(str(w) for w in words)}\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.record(server, session, "EHLO", hostname)
        if "ehlo" in self.args.replies:
            return [self.args.replies["ehlo"]]
        if self.args.no_ehlo:
            return ["502 5.5.1 EHLO not implemented"]
        session.host_name = hostname
        out = list(responses)
        if self.args.size:
            out = [f"250-SIZE {self.args.size}" if r.startswith("250-SIZE") else r for r in out]
        if not self.args.no_pipelining:
            out.insert(1, "250-PIPELINING")
        return out

    async def handle_HELO(self, server, session, envelope, hostname):
        self.record(server, session, "HELO", hostname)
        if "helo" in self.args.replies:
            return self.args.replies["helo"]
        session.host_name = hostname
        return "250 " + server.hostname

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.record(server, session, "MAIL", address, *options)
        if "mail" in self.args.replies:
            return self.args.replies["mail"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.record(server, session, "RCPT", address)
        local = address.split("@")[0]
        if local.startswith("t451"):
            return "451 4.3.0 temporary failure, try later"
        if local.startswith("t452full"):
            return "452 4.2.2 mailbox full"
        for prefix, reply in RCPT_REPLIES:
            if local.startswith(prefix):
                return reply
        if local.startswith("c421"):
            await server.push("421 4.7.0 too many connections, closing")
            server.transport.close()
            return "421 4.7.0 closing"
        if local.startswith("stall"):
            await asyncio.sleep(self.args.stall)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_RSET(self, server, session, envelope):
        self.record(server, session, "RSET")
        return self.args.replies.get("rset", "250 2.0.0 OK")

    async def handle_QUIT(self, server, session, envelope):
        self.record(server, session, "QUIT")
        return "221 2.0.0 bye"

    async def handle_DATA(self, server, session, envelope):
        self.record(server, session, "DATA", len(envelope.content), *envelope.rcpt_tos)
        if any(r.split("@")[0].startswith("dropdata") for r in envelope.rcpt_tos):
            server.transport.close()
            return "250 never seen"
        if any(r.split("@")[0].startswith("d554") for r in envelope.rcpt_tos):
            return "554 5.6.0 message content rejected"
        if any(r.split("@")[0].startswith("dbig") for r in envelope.rcpt_tos):
            return "552 5.3.4 message too large"
        n = next(MESSAGE_IDS)
        if self.args.out:
            with open(os.path.join(self.args.out, f"{n}.eml.tmp"), "wb") as f:
                f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
                for r in envelope.rcpt_tos:
                    f.write(f"X-Envelope-To: {r}\r\n".encode())
                f.write(envelope.original_content)
            os.rename(os.path.join(self.args.out, f"{n}.eml.tmp"), os.path.join(self.args.out, f"{n}.eml"))
        return f"250 2.0.0 queued as {n}"


class ScriptedSMTP(SMTP):
    """aiosmtpd's server with the steps it has no hook for answered from --reply."""

    def __init__(self, handler, replies, **kwargs):
        super().__init__(handler, **kwargs)
        self.replies = replies
        self.greeted = False

    async def push(self, status):
        if not self.greeted:
            self.greeted = True
            if "greeting" in self.replies:
                status = self.replies["greeting"]
        await super().push(status)

    async def smtp_STARTTLS(self, arg):
        self.event_handler.record(self, self.session, "STARTTLS")
        if "starttls" in self.replies:
            return await self.push(self.replies["starttls"])
        return await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg):
        # Every AUTH command, whatever becomes of it (the mechanism only: never the credentials).
        self.event_handler.record(self, self.session, "AUTH-COMMAND", (arg or "").split(" ")[0])
        if "auth" in self.replies:
            return await self.push(self.replies["auth"])
        return await super().smtp_AUTH(arg)

    async def smtp_DATA(self, arg):
        if "data" in self.replies:
            self.event_handler.record(self, self.session, "DATA-COMMAND")
            return await self.push(self.replies["data"])
        return await super().smtp_DATA(arg)


def main():
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--out")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--auth", help="user:password")
    ap.add_argument("--no-pipelining", action="store_true")
    ap.add_argument("--no-ehlo", action="store_true")
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--smtputf8", action="store_true")
    ap.add_argument("--stall", type=float, default=30.0)
    ap.add_argument("--auth-without-tls", action="store_true", help="offer AUTH on plain connections too")
    ap.add_argument("--reply", action="append", default=[], help="STEP=REPLY")
    args = ap.parse_args()
    args.replies = {}
    for r in args.reply:
        step, _, reply = r.partition("=")
        args.replies[step] = reply

    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or not args.auth:
            return AuthResult(success=False, handled=False)
        user, _, password = args.auth.partition(":")
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        handler.record(server, session, "AUTH", mechanism, "ok" if ok else "bad")
        return AuthResult(success=ok, handled=False)

    handler = Handler(args)

    def factory():
        kwargs = dict(hostname="scripted.test", decode_data=False,
                      data_size_limit=args.size or 33554432, enable_SMTPUTF8=args.smtputf8)
        if context and not args.implicit_tls:
            kwargs["tls_context"] = context
        if args.auth:
            kwargs["authenticator"] = authenticator
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = not args.auth_without_tls
        return ScriptedSMTP(handler, args.replies, **kwargs)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, "127.0.0.1", args.port,
                                          ssl=context if args.implicit_tls else None)
        port = server.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        # Stop when the parent closes our stdin (or dies).
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        await reader.read()
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
