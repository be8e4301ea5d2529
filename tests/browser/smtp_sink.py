"""A real SMTP server on loopback for the browser tests (aiosmtpd): every
message it accepts is appended to a file as one JSON line (envelope sender and
recipients, Message-ID, To, Subject, the plain-text body) and flushed before
the server answers 250, so a test that sees the line knows the sender got its
250. Prints "ready" once it listens.

Usage: python3 smtp_sink.py PORT LOG"""
import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.controller import Controller


def plain_text(msg):
    """The text/plain part, decoded (the whole body when there is no such part)."""
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    if part is None:
        return ""
    try:
        return part.get_content()
    except (KeyError, LookupError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


class Sink:
    def __init__(self, path):
        self.out = open(path, "a", buffering=1, encoding="utf-8")

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.out.write(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "message_id": msg["Message-ID"],
            "from": msg["From"],
            "to": msg["To"],
            "subject": msg["Subject"],
            "content_type": msg.get_content_type(),
            "text": plain_text(msg),
        }) + "\n")
        self.out.flush()
        return "250 OK"


if __name__ == "__main__":
    port, path = int(sys.argv[1]), sys.argv[2]
    c = Controller(Sink(path), hostname="127.0.0.1", port=port)
    c.start()
    print("ready", flush=True)
    try:
        # Until the test ends it (SIGTERM) or closes stdin.
        loop = asyncio.new_event_loop()
        loop.run_until_complete(loop.run_in_executor(None, sys.stdin.read))
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()
