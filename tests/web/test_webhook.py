"""The webhook sender against a local HTTP server on 127.0.0.1 started here (never a real host): delivered, retried
after a 500 with back-off, given up after N attempts, signed, timed out; and the commands that drive it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from dispatch.webhook import SIGNATURE, send_due
from settings import Settings

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SECRET = "a-long-enough-secret-for-hmac"


class Receiver:
    """A local HTTP server that answers with the statuses it is given (then 200) and keeps what it received."""

    def __init__(self, statuses=(), delay_s=0.0):
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                if delay_s:
                    threading.Event().wait(delay_s)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def urge(store, at=NOW):
    payload = {"kind": "urge", "to": {"unit": "SQ350203001"}, "case": {"id": 7, "no": "X-1"}, "reason": "快"}
    return store.enqueue_delivery("urge", payload, at)


def test_a_message_is_delivered_as_json(store):
    did = urge(store)
    with Receiver() as r:
        report = send_due(store, r.url, None, NOW)
    assert (report.delivered, report.retried, report.failed) == (1, 0, 0)
    headers, body = r.received[0]
    assert json.loads(body) == {"id": did, "kind": "urge", "to": {"unit": "SQ350203001"},
                                "case": {"id": 7, "no": "X-1"}, "reason": "快"}  # fmt: skip
    assert headers["Content-Type"] == "application/json" and headers["X-Xiuhua-Event"] == "urge"
    assert headers["X-Xiuhua-Delivery"] == str(did) and SIGNATURE not in headers
    (d,) = store.deliveries()
    assert d.delivered_at == NOW and d.attempts == 1 and not d.failed
    assert store.due_deliveries(NOW + timedelta(days=1)) == []


def test_a_500_is_retried_after_a_minute_then_two(store):
    urge(store)
    with Receiver([500, 503]) as r:
        assert send_due(store, r.url, None, NOW).retried == 1
        (d,) = store.deliveries()
        assert d.next_at == NOW + timedelta(minutes=1) and d.last_error == "HTTP 500"
        assert send_due(store, r.url, None, NOW + timedelta(seconds=59)).retried == 0  # not due yet
        assert send_due(store, r.url, None, NOW + timedelta(minutes=1)).retried == 1
        (d,) = store.deliveries()
        assert d.next_at == NOW + timedelta(minutes=3)  # 1, then 2 minutes more
        assert send_due(store, r.url, None, NOW + timedelta(minutes=3)).delivered == 1
    assert len(r.received) == 3
    (d,) = store.deliveries()
    assert d.attempts == 3 and d.delivered_at is not None


def test_given_up_after_n_attempts_and_listed(store):
    urge(store)
    with Receiver([500] * 10) as r:
        at = NOW
        for _ in range(3):
            report = send_due(store, r.url, None, at, attempts=3)
            at += timedelta(hours=1)
    assert report.failed == 1 and len(r.received) == 3
    (d,) = store.deliveries(failed=True)
    assert d.failed and d.attempts == 3 and d.last_error == "HTTP 500" and d.delivered_at is None
    assert store.due_deliveries(at + timedelta(days=1)) == []


def test_the_signature_is_an_hmac_of_the_body(store):
    urge(store)
    with Receiver() as r:
        send_due(store, r.url, SECRET, NOW)
    headers, body = r.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE], expected)
    wrong = "sha256=" + hmac.new(b"another-secret-entirely", body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE] != wrong


def test_a_slow_receiver_times_out_and_is_retried(store):
    urge(store)
    with Receiver(delay_s=1.0) as r:
        report = send_due(store, r.url, None, NOW, timeout_s=0.2)
    assert report.retried == 1
    (d,) = store.deliveries()
    assert "timed out" in d.last_error or "Timeout" in d.last_error


def test_nobody_listening_is_an_error_kept(store):
    urge(store)
    with Receiver() as r:
        url = r.url
    report = send_due(store, url, None, NOW)  # the server is gone: connection refused
    assert report.retried == 1 and store.deliveries()[0].last_error


def test_webhook_settings_are_checked():
    ok = Settings.from_env({"XIUHUA_WEBHOOK_URL": "http://127.0.0.1:9/x", "XIUHUA_WEBHOOK_SECRET": SECRET})
    assert ok.webhook_secret == SECRET and ok.webhook_attempts == 8
    with pytest.raises(ValueError, match="XIUHUA_WEBHOOK_URL is not"):
        Settings.from_env({"XIUHUA_WEBHOOK_SECRET": SECRET})
    with pytest.raises(ValueError, match="XIUHUA_WEBHOOK_SECRET: expected 16"):
        Settings.from_env({"XIUHUA_WEBHOOK_URL": "http://127.0.0.1:9/x", "XIUHUA_WEBHOOK_SECRET": "short"})
    with pytest.raises(ValueError, match="XIUHUA_WEBHOOK_ATTEMPTS"):
        Settings.from_env({"XIUHUA_WEBHOOK_ATTEMPTS": "0"})


@pytest.mark.slow
def test_the_commands_send_once_and_list_what_failed(demo_env, tmp_path, monkeypatch):
    import shutil

    from cli import main
    from store.registry import open_store

    # a copy of the demo store: the send escalates overdue cases, which the other tests must not see
    src = demo_env["XIUHUA_DATABASE_URL"].removeprefix("sqlite:///")
    shutil.copy(src, tmp_path / "copy.sqlite")
    url = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    # one case long overdue, whatever the hour the demo history ended at
    from datetime import UTC, datetime, timedelta

    copy = open_store(url)
    late = copy.cases(states=["dispatched"])[0]
    now = datetime.now(UTC)
    copy.update_case(late.id, late.version, {"deadline_at": now - timedelta(days=10)}, "test", "test", "", now)
    copy.close()
    for k, v in {**demo_env, "XIUHUA_DATABASE_URL": url, "XIUHUA_VAR_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(main, ["notify", "send"])
    assert r.exit_code != 0 and "XIUHUA_WEBHOOK_URL is not set" in r.output
    with Receiver([500] * 1000) as recv:
        monkeypatch.setenv("XIUHUA_WEBHOOK_URL", recv.url)
        monkeypatch.setenv("XIUHUA_WEBHOOK_ATTEMPTS", "1")
        r = CliRunner().invoke(main, ["notify", "send"])
    assert r.exit_code == 0, r.output
    store = open_store(url)
    escalated = [d for d in store.deliveries(limit=5000) if d.kind == "escalation"]
    store.close()
    assert escalated and f"{len(escalated)} escalated" in r.output
    assert f"{min(50, len(escalated))} given up" in r.output and len(recv.received) == min(50, len(escalated))
    r = CliRunner().invoke(main, ["notify", "failed"])
    assert r.exit_code == 0 and "escalation" in r.output and "HTTP 500" in r.output
