"""Accounts, roles, throttling and sessions."""

import pytest

from danvan_scoring import auth, store
from danvan_scoring.permissions import CLI_ACTOR, Actor

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


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
    with pytest.raises(store.PermissionDenied):
        auth.add_user(empty_con, "x", "leader", "mat-khau-bi-mat", actor=Actor("hd", "council"))
    auth.add_user(empty_con, "nguyenvana", "staff", "mat-khau-bi-mat", actor=CLI_ACTOR)
    assert auth.authenticate(empty_con, "nguyenvana", "mat-khau-bi-mat", sleep=lambda s: None).role == "staff"
    with pytest.raises(store.StoreError, match="đã tồn tại"):
        auth.add_user(empty_con, "nguyenvana", "staff", "mat-khau-bi-mat", actor=CLI_ACTOR)
    with pytest.raises(store.StoreError, match="Vai trò"):
        auth.add_user(empty_con, "b", "boss", "mat-khau-bi-mat", actor=CLI_ACTOR)
    assert "user.add" in set(store.audit_log(empty_con)["action"])


def test_a_unit_accounts_session_resumes_with_its_unit_and_ends_with_the_account(demo_con):
    """One query answers who is signed in and, for a unit account, for which unit; a disabled
    account's session is refused at its next rerun."""
    code = demo_con.execute("SELECT min(unit_code) FROM units WHERE unit_type <> 'co_quan'").fetchone()[0]
    auth.add_user(demo_con, "xa_thu", "unit", "mat-khau-du-dai", actor=CLI_ACTOR, unit_code=code)
    auth.add_user(demo_con, "lanhdao_thu", "leader", "mat-khau-du-dai", actor=CLI_ACTOR)
    unit_token = auth.create_session(demo_con, Actor("xa_thu", "unit", unit_code=code))
    leader_token = auth.create_session(demo_con, Actor("lanhdao_thu", "leader"))
    assert auth.resume_session(demo_con, unit_token) == Actor("xa_thu", "unit", False, code)
    assert auth.resume_session(demo_con, leader_token) == Actor("lanhdao_thu", "leader", False, None)
    auth.set_role(demo_con, "xa_thu", "unit", actor=CLI_ACTOR, active=False)
    assert auth.resume_session(demo_con, unit_token) is None
    assert auth.resume_session(demo_con, leader_token) is not None


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


# --------------------------------------------------------------------------- issue 11, point 6: throttling
def _no_sleep(s):
    pass


def test_client_address_is_throttled_across_usernames(demo_con):
    """Spraying one password over many usernames from one address is slowed down."""
    waits = []
    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):
        auth.authenticate(demo_con, name, "demo123", client="10.0.0.9", sleep=waits.append)
    assert waits and waits[-1] > 0
    assert auth.throttle_delay(demo_con, "newname", "10.0.0.9") > 0
    assert auth.throttle_delay(demo_con, "newname", "10.0.0.10") == 0


def test_delay_is_capped_and_a_fresh_client_gets_in_promptly(demo_con):
    waits = []
    for _ in range(25):
        auth.authenticate(demo_con, "canbo", "wrong", client="6.6.6.6", sleep=waits.append)
    assert max(waits) <= auth.MAX_DELAY
    assert auth.throttle_delay(demo_con, "canbo", "6.6.6.6") == auth.MAX_DELAY
    # the real user at their own address: a short wait at most, then in
    fresh = []
    assert auth.authenticate(demo_con, "canbo", "demo", client="192.168.1.5", sleep=fresh.append) is not None
    assert sum(fresh) <= auth.FRESH_CLIENT_DELAY


def test_unknown_username_also_runs_a_hash_check(demo_con, monkeypatch):
    calls = []
    real = auth._hasher

    class Counting:
        def verify(self, h, p):
            calls.append(h)
            return real.verify(h, p)

        def hash(self, p):
            return real.hash(p)

    monkeypatch.setattr(auth, "_hasher", Counting())
    assert auth.authenticate(demo_con, "khongco", "demo", sleep=_no_sleep) is None
    assert auth.authenticate(demo_con, "lanhdao", "sai", sleep=_no_sleep) is None
    auth.set_role(demo_con, "canbo", "staff", actor=CLI_ACTOR, active=False)
    assert auth.authenticate(demo_con, "canbo", "demo", sleep=_no_sleep) is None
    assert len(calls) == 3 and all(h.startswith("$argon2") for h in calls)


def test_old_attempts_and_expired_sessions_are_purged(demo_con):
    old = store.now() - auth.ATTEMPT_RETENTION * 2
    demo_con.execute("INSERT INTO login_attempts (username, attempted_at, ok) VALUES ('x', ?, FALSE)", [old])
    demo_con.execute("INSERT INTO sessions VALUES ('h', 'lanhdao', ?, ?)", [old, old])
    a = auth.authenticate(demo_con, "lanhdao", "demo", sleep=_no_sleep)
    assert demo_con.execute("SELECT count(*) FROM login_attempts WHERE attempted_at <= ?", [old]).fetchone()[0] == 0
    auth.create_session(demo_con, a)
    assert demo_con.execute("SELECT count(*) FROM sessions WHERE token_hash = 'h'").fetchone()[0] == 0
    assert "login_client_v1" in store.applied_migrations(demo_con)


# --------------------------------------------------------------------------- point 7: passwords
def _users_snapshot(con):
    return con.execute("SELECT * FROM users ORDER BY username").fetchall(), len(store.audit_log(con))


@pytest.mark.parametrize("bad", ["    ", "ngan", "mười một kt", " " * 12])
def test_short_password_is_refused_and_nothing_written(empty_con, bad):
    before = _users_snapshot(empty_con)
    with pytest.raises(store.StoreError, match="ít nhất 12 ký tự"):
        auth.add_user(empty_con, "quantri2", "admin", bad, actor=CLI_ACTOR)
    assert _users_snapshot(empty_con) == before


def test_demo_accounts_keep_demo_password(demo_con):
    """The documented exemption: demo accounts in a demo database sign in with 'demo'."""
    assert auth.authenticate(demo_con, "quantri", auth.DEMO_PASSWORD, sleep=_no_sleep) is not None


def test_change_own_password(empty_con):
    auth.add_user(empty_con, "nguyenvanc", "staff", "mat-khau-cu-123", actor=CLI_ACTOR)
    before = _users_snapshot(empty_con)
    with pytest.raises(store.StoreError, match="ít nhất 12"):
        auth.change_password(empty_con, "nguyenvanc", "mat-khau-cu-123", "ngan", sleep=_no_sleep)
    with pytest.raises(store.StoreError, match="hiện tại không đúng"):
        auth.change_password(empty_con, "nguyenvanc", "sai-roi", "mat-khau-moi-456", sleep=_no_sleep)
    assert _users_snapshot(empty_con)[0] == before[0]
    auth.change_password(empty_con, "nguyenvanc", "mat-khau-cu-123", "mat-khau-moi-456", sleep=_no_sleep)
    assert auth.authenticate(empty_con, "nguyenvanc", "mat-khau-cu-123", sleep=_no_sleep) is None
    assert auth.authenticate(empty_con, "nguyenvanc", "mat-khau-moi-456", sleep=_no_sleep) is not None
    assert "user.password_change" in set(store.audit_log(empty_con)["action"])


def test_admin_reset_password(demo_con):
    a = auth.authenticate(demo_con, "canbo", "demo", sleep=_no_sleep)
    token = auth.create_session(demo_con, a)
    with pytest.raises(store.PermissionDenied):
        auth.reset_password(demo_con, "canbo", "mat-khau-moi-456", actor=Actor("hoidong", "council", True))
    before = _users_snapshot(demo_con)
    with pytest.raises(store.StoreError, match="ít nhất 12"):
        auth.reset_password(demo_con, "canbo", "short", actor=CLI_ACTOR)
    with pytest.raises(store.StoreError, match="Không có tài khoản"):
        auth.reset_password(demo_con, "khongco", "mat-khau-moi-456", actor=CLI_ACTOR)
    assert _users_snapshot(demo_con) == before
    auth.reset_password(demo_con, "canbo", "mat-khau-moi-456", actor=CLI_ACTOR)
    assert auth.authenticate(demo_con, "canbo", "mat-khau-moi-456", sleep=_no_sleep) is not None
    assert auth.resume_session(demo_con, token) is None
