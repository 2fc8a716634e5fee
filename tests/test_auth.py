"""Accounts, roles, throttling and sessions."""

import pytest

from danvan_scoring import auth, permissions, store
from danvan_scoring.permissions import CLI_ACTOR, Actor


def test_demo_accounts_only_in_demo(demo_con, empty_con):
    assert set(auth.users(demo_con)["username"]) >= set(auth.DEMO_ACCOUNTS)
    assert auth.users(empty_con).empty
    with pytest.raises(store.StoreError, match="minh họa"):
        auth.create_demo_accounts(empty_con)
    assert auth.authenticate(empty_con, "quantri", "demo", sleep=lambda s: None) is None


def test_sign_in_and_roles(demo_con):
    a = auth.authenticate(demo_con, "hoidong", "demo", sleep=lambda s: None)
    assert a == Actor("hoidong", "council", True)
    assert a.can("weights") and not a.can("import")
    assert auth.authenticate(demo_con, "hoidong", "sai", sleep=lambda s: None) is None
    leader = auth.authenticate(demo_con, "lanhdao", "demo", sleep=lambda s: None)
    assert leader.can("view") and not leader.can("weights") and not leader.can("publish")


def test_passwords_are_argon2_hashes(demo_con):
    h = demo_con.execute("SELECT password_hash FROM users WHERE username='canbo'").fetchall()[0][0]
    assert h.startswith("$argon2") and "demo" not in h


def test_failures_are_slowed_down(demo_con):
    waits = []
    for _ in range(6):
        auth.authenticate(demo_con, "canbo", "wrong", sleep=waits.append)
    assert waits and waits == sorted(waits) and waits[-1] > waits[0]
    assert auth.throttle_delay(demo_con, "canbo") > 0
    auth.authenticate(demo_con, "canbo", "demo", sleep=lambda s: None)
    assert auth.throttle_delay(demo_con, "canbo") == 0


def test_add_user_requires_admin(empty_con):
    with pytest.raises(permissions.PermissionDenied):
        auth.add_user(empty_con, "x", "leader", "secret", actor=Actor("hd", "council"))
    auth.add_user(empty_con, "nguyenvana", "staff", "secret", actor=CLI_ACTOR)
    assert auth.authenticate(empty_con, "nguyenvana", "secret", sleep=lambda s: None).role == "staff"
    with pytest.raises(store.StoreError, match="đã tồn tại"):
        auth.add_user(empty_con, "nguyenvana", "staff", "secret", actor=CLI_ACTOR)
    with pytest.raises(store.StoreError, match="Vai trò"):
        auth.add_user(empty_con, "b", "boss", "secret", actor=CLI_ACTOR)
    assert "user.add" in set(store.audit_log(empty_con)["action"])


def test_sessions_survive_and_end(demo_con):
    a = auth.authenticate(demo_con, "lanhdao", "demo", sleep=lambda s: None)
    token = auth.create_session(demo_con, a)
    assert auth.resume_session(demo_con, token) == a
    assert auth.resume_session(demo_con, "forged") is None
    auth.end_session(demo_con, token)
    assert auth.resume_session(demo_con, token) is None


def test_deactivated_user_cannot_sign_in(demo_con):
    auth.set_role(demo_con, "canbo", "staff", actor=CLI_ACTOR, active=False)
    assert auth.authenticate(demo_con, "canbo", "demo", sleep=lambda s: None) is None
