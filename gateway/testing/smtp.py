"""A real SMTP server on loopback for the tests (aiosmtpd): the gateway sends through
django.core.mail's SMTP backend, the test reads what arrived."""

import email
import email.policy
import re
import socket
import threading
import time

from aiosmtpd.controller import Controller


class _Collect:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


class SmtpSink:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()
        # aiosmtpd connects to its own port to check it is up, so it needs a real one, not 0.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for rcpts, m in self.messages if address.lower() in (r.lower() for r in rcpts)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(found := self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no e-mail #{count} to {address} within {timeout}s")
            time.sleep(0.02)
        return found

    def confirmation_link(self, address: str, index: int = -1) -> str:
        """The confirmation URL in the `index`-th mail to `address`."""
        body = self.wait_for(address)[index].get_body(preferencelist=("plain",)).get_content()
        return re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
