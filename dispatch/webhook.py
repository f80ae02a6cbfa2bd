"""The webhook sender: the outbox's messages (store deliveries) as JSON POSTs to XIUHUA_WEBHOOK_URL, signed with
HMAC-SHA256 when XIUHUA_WEBHOOK_SECRET is set, retried with exponential back-off (1, 2, 4 … minutes) and given up
after a number of attempts (kept, failed, for `xiuhua notify failed`).

Headers: X-Xiuhua-Event (the kind), X-Xiuhua-Delivery (the outbox id, for the receiver to drop repeats) and
X-Xiuhua-Signature: sha256=<hex HMAC of the body> (with a secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from store.base import Store
from store.models import Delivery

log = logging.getLogger(__name__)
BACKOFF_S = 60.0  # the first retry waits a minute, each next one twice as long
TIMEOUT_S = 10.0
ATTEMPTS = 8  # 1+2+4+…+64 minutes: about two hours of retries, then given up
EVERY_S = 30.0  # how often the background sender looks for due messages
SIGNATURE = "X-Xiuhua-Signature"


@dataclass(frozen=True)
class Report:
    delivered: int = 0
    retried: int = 0
    failed: int = 0  # given up


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: sha256=<hex HMAC-SHA256 of the body with the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # a redirect would resend (or drop) the message somewhere not configured: it counts as a failure
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def body_of(d: Delivery) -> bytes:
    return json.dumps({"id": d.id, **d.payload}, ensure_ascii=False, separators=(",", ":")).encode()


def post(url: str, d: Delivery, secret: str | None, timeout_s: float = TIMEOUT_S) -> str:
    """POST one message; "" when the receiver answered 2xx, else what went wrong (short, for the outbox)."""
    body = body_of(d)
    headers = {"Content-Type": "application/json", "X-Xiuhua-Event": d.kind, "X-Xiuhua-Delivery": str(d.id)}
    if secret:
        headers[SIGNATURE] = sign(body, secret)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(req, timeout=timeout_s) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {str(getattr(exc, 'reason', exc))[:200]}"
    return "" if 200 <= status < 300 else f"HTTP {status}"


def send_due(
    store: Store,
    url: str,
    secret: str | None,
    now: datetime,
    attempts: int = ATTEMPTS,
    timeout_s: float = TIMEOUT_S,
    limit: int = 50,
) -> Report:
    """Send what is due once: each message delivered, retried later (after 1, 2, 4 … minutes) or given up."""
    delivered = retried = failed = 0
    for d in store.due_deliveries(now, limit):
        error = post(url, d, secret, timeout_s)
        if not error:
            store.record_attempt(d.id, now)
            delivered += 1
        elif d.attempts + 1 >= attempts:
            store.record_attempt(d.id, now, error, give_up=True)
            failed += 1
        else:
            wait = timedelta(seconds=BACKOFF_S * 2**d.attempts)
            store.record_attempt(d.id, now, error, next_at=now + wait)
            retried += 1
    return Report(delivered, retried, failed)


class Sender(threading.Thread):
    """The background sender of a server process: every EVERY_S, `before()` (the escalation sweep) and then
    whatever messages are due. A daemon: it ends with the process."""

    def __init__(
        self,
        store: Store,
        url: str,
        secret: str | None,
        before: Callable[[datetime], object] = lambda _now: None,
        every_s: float = EVERY_S,
        attempts: int = ATTEMPTS,
    ) -> None:
        super().__init__(name="xiuhua-webhook", daemon=True)
        self.store, self.url, self.secret, self.before = store, url, secret, before
        self.every_s, self.attempts = every_s, attempts
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.before(datetime.now(UTC))
                send_due(self.store, self.url, self.secret, datetime.now(UTC), self.attempts)
            except Exception:  # a database hiccup: try again next round, never end the thread
                log.exception("the webhook sender failed a round")
            self.stopped.wait(self.every_s)

    def stop(self) -> None:
        self.stopped.set()
