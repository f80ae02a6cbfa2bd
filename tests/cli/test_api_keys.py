"""`xiuhua api-keys add|list|revoke` on both backends: the key is printed once, alone on the last line, and only
its sha256 is stored."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from click.testing import CliRunner

from cli import main


def _run(*args):
    r = CliRunner().invoke(main, list(args))
    assert "Traceback" not in r.output
    return r


def test_add_list_revoke(env):
    store = env
    r = _run("api-keys", "add", "hotline-sys", "--channel", "hotline", "--rate", "30")
    assert r.exit_code == 0, r.output
    secret = r.output.strip().splitlines()[-1]
    assert len(secret) >= 40 and " " not in secret
    key = store.api_key_by_hash(hashlib.sha256(secret.encode()).hexdigest())
    assert key is not None and (key.name, key.channel, key.rate_per_minute) == ("hotline-sys", "hotline", 30)
    assert all(secret not in str(v) for k in store.api_keys() for v in vars(k).values())  # the key is not stored
    store.log_api_call(datetime.now(UTC), "hotline-sys", "GET", "/open311/v2/requests.json", 200)
    listed = _run("api-keys", "list")
    assert listed.exit_code == 0 and "hotline-sys" in listed.output and "hotline" in listed.output
    assert secret not in listed.output
    row = next(line for line in listed.output.splitlines() if "hotline-sys" in line)
    assert row.rstrip(" │").endswith("1")  # one call in the last day
    assert _run("api-keys", "revoke", "hotline-sys").exit_code == 0
    assert store.api_key("hotline-sys").revoked_at is not None
    assert datetime.now(UTC).strftime("%Y-%m-%d") in _run("api-keys", "list").output


def test_bad_input(env):
    assert _run("api-keys", "add", "app1").exit_code == 0
    r = _run("api-keys", "add", "app1")
    assert r.exit_code == 2 and "app1" in r.output and "exists" in r.output
    r = _run("api-keys", "add", "x", "--channel", "fax")
    assert r.exit_code == 2 and "fax" in r.output
    r = _run("api-keys", "add", "bad name")
    assert r.exit_code == 2 and "bad name" in r.output
    r = _run("api-keys", "add", "y", "--rate", "0")
    assert r.exit_code == 2 and "rate" in r.output.lower()
    r = _run("api-keys", "revoke", "nobody")
    assert r.exit_code == 2 and "nobody" in r.output
