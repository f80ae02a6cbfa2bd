"""Sessions and the sign-in throttle on both stores: revocation, lifetimes, atomic counting."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from store.errors import Forbidden

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
IDLE, LIFE, TOUCH = timedelta(minutes=30), timedelta(hours=8), timedelta(minutes=1)


def live(store, token, at):
    return store.session_user(token, at, IDLE, LIFE, TOUCH)


def test_a_session_ends_at_sign_out_and_on_every_account_change(store):
    store.add_user("ann", "password1", "dispatcher")
    token = store.start_session("ann", T0)
    assert live(store, token, T0).username == "ann"
    store.end_session(token)
    assert live(store, token, T0) is None  # a replayed cookie after sign-out
    for change in ({"password": "password2"}, {"role": "acceptor"}, {"districts": ["350203"]}, {"active": False}):
        token = store.start_session("ann", T0)
        store.update_user("ann", **change)
        assert live(store, token, T0 + timedelta(seconds=1)) is None, change
    store.update_user("ann", active=True)
    assert live(store, store.start_session("ann", T0), T0) is not None
    assert live(store, "not-a-token", T0) is None and live(store, "x" * 500, T0) is None


def test_sessions_end_when_idle_or_old(store):
    store.add_user("bo", "password1", "wall")
    token = store.start_session("bo", T0)
    assert live(store, token, T0 + IDLE - timedelta(seconds=1)) is not None  # seen: the idle clock restarts
    assert live(store, token, T0 + 2 * IDLE - timedelta(seconds=2)) is not None
    assert live(store, token, T0 + 3 * IDLE) is None  # idle too long, and now forgotten
    token = store.start_session("bo", T0)
    at = T0
    while at < T0 + LIFE - IDLE:  # busy all day (a wall polls)...
        at += IDLE / 2
        assert live(store, token, at) is not None
    assert live(store, token, T0 + LIFE + timedelta(seconds=1)) is None  # ...but never past the maximum age
    assert store.end_sessions("bo") == 0


def test_disabled_accounts_cannot_sign_in_and_names_do_not_leak(store):
    store.add_user("cy", "password1", "acceptor")
    store.update_user("cy", active=False)
    for name, password in (("cy", "password1"), ("cy", "wrong-one"), ("nobody", "password1")):
        with pytest.raises(Forbidden, match="wrong user name or password"):
            store.authenticate(name, password)


def test_unknown_names_cost_a_hash_check_like_wrong_passwords(store, monkeypatch):
    import store.accounts as accounts

    calls = []
    real = accounts._hasher

    class Counting:
        hash = staticmethod(real.hash)

        def verify(self, hashed, password):
            calls.append(hashed)
            return real.verify(hashed, password)

    monkeypatch.setattr(accounts, "_hasher", Counting())
    store.add_user("dee", "password1", "acceptor")
    for name in ("dee", "no-such-account"):
        with pytest.raises(Forbidden):
            store.authenticate(name, "wrong-password")
    assert len(calls) == 2  # the missing account was checked against a hash too (no fast path)


def test_attempts_are_counted_atomically(store):
    window = timedelta(minutes=5)
    counts: list[int] = []
    barrier = threading.Barrier(20)

    def attempt():
        barrier.wait()
        counts.extend(store.count_attempts(["user:x|1.2.3.4"], window, T0))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == list(range(1, 21))  # each concurrent guess got its own place: at most 5 get past 5


def test_attempt_counters_expire_and_are_forgiven(store):
    window = timedelta(minutes=5)
    assert store.count_attempts(["a", "b"], window, T0) == [1, 1]
    assert store.count_attempts(["a", "b"], window, T0 + timedelta(minutes=1)) == [2, 2]
    store.forgive_attempts(reset=["a"], decrement=["b"])
    assert store.count_attempts(["a", "b"], window, T0 + timedelta(minutes=2)) == [1, 2]
    # a new window starts once the old one has passed, and old counters are dropped (the table stays small)
    assert store.count_attempts(["a"], window, T0 + timedelta(minutes=8)) == [1]
    for k in range(200):
        store.count_attempts([f"probe{k}"], window, T0 + timedelta(minutes=9))
    assert store.count_attempts(["b"], window, T0 + timedelta(minutes=20)) == [1]
