"""Local accounts and sessions (roles and permissions live in ``permissions``).

Passwords are stored as argon2 hashes; failed sign-ins are slowed down after a few attempts.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import store
from .permissions import CLI_ACTOR, ROLES, Actor, require

DEMO_ACCOUNTS = {"lanhdao": "leader", "hoidong": "council", "canbo": "staff", "quantri": "admin"}
DEMO_PASSWORD = "demo"

_hasher = PasswordHasher()


# --------------------------------------------------------------------------- accounts
def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(con, username: str, role: str, password: str, *, actor: Actor,
             display_name: str | None = None, is_chair: bool = False, unit_code: str | None = None) -> None:
    """Create an account; a ``unit`` account speaks for exactly one unit (``unit_code``)."""
    require(actor, "users")
    if role not in ROLES:
        raise store.StoreError(f"Vai trò '{role}' không hợp lệ; chỉ nhận: {', '.join(ROLES)}")
    if (role == "unit") != (unit_code is not None):
        raise store.StoreError("Tài khoản cán bộ đơn vị cần đúng một đơn vị (--unit MÃ); vai trò khác không gắn "
                               "đơn vị")
    if unit_code is not None:
        store.migrate(con)
        if not con.execute("SELECT 1 FROM units WHERE unit_code = ?", [unit_code]).fetchone():
            raise store.StoreError(f"Không có đơn vị '{unit_code}' trong danh mục")
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise store.StoreError("Tên đăng nhập chỉ gồm chữ, số, dấu chấm và gạch dưới")
    check_password(password)
    with store.write(con, actor, "users", action="user.add", target=username,
                     after={"role": role, "is_chair": is_chair, "unit_code": unit_code}):
        if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise store.StoreError(f"Tài khoản '{username}' đã tồn tại")
        con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, TRUE, ?)",
                    [username, role, hash_password(password), display_name or username, is_chair, store.now()])
        if unit_code is not None:
            con.execute("INSERT INTO user_units (username, unit_code) VALUES (?, ?)", [username, unit_code])


def set_role(con, username: str, role: str, *, actor: Actor, is_chair: bool | None = None,
             active: bool | None = None) -> None:
    with store.write(con, actor, "users", action="user.update", target=username) as w:
        row = con.execute("SELECT role, is_chair, active FROM users WHERE username = ?", [username]).fetchone()
        if row is None:
            raise store.StoreError(f"Không có tài khoản '{username}'")
        if role not in ROLES:
            raise store.StoreError(f"Vai trò '{role}' không hợp lệ")
        new = {"role": role, "is_chair": row[1] if is_chair is None else is_chair,
               "active": row[2] if active is None else active}
        con.execute("UPDATE users SET role = ?, is_chair = ?, active = ? WHERE username = ?",
                    [new["role"], new["is_chair"], new["active"], username])
        w.before, w.after = {"role": row[0], "is_chair": row[1], "active": row[2]}, new


def users(con):
    return con.execute("SELECT username, display_name, role, is_chair, active, created_at FROM users "
                       "ORDER BY username").df()


def unit_of(con, username: str) -> str | None:
    """The unit a ``unit`` account speaks for (None for other accounts, or before the migration)."""
    if "lifecycle_v1" not in store.applied_migrations(con):
        return None
    row = con.execute("SELECT unit_code FROM user_units WHERE username = ?", [username]).fetchone()
    return row[0] if row else None


def _actor(con, username: str, role: str, is_chair) -> Actor:
    return Actor(username, role, bool(is_chair), unit_of(con, username) if role == "unit" else None)


# Passwords: at least MIN_PASSWORD_LENGTH characters, not only spaces. The one exemption is the
# demo accounts that create_demo_accounts makes in a synthetic demo database (password "demo",
# printed on its sign-in page): they are inserted directly and never pass through this check.
MIN_PASSWORD_LENGTH = 12


def check_password(password: str) -> None:
    """Refuse a password that is too short (or only spaces) before anything is written."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise store.StoreError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự "
                               "(không tính mật khẩu chỉ gồm dấu cách)")


def _set_password(con, username: str, new_password: str, actor: Actor, action: str, *,
                  permission: str | None, end_sessions: bool = False) -> None:
    with store.write(con, actor, permission, action=action, target=username):
        con.execute("UPDATE users SET password_hash = ? WHERE username = ?", [hash_password(new_password), username])
        if end_sessions:
            con.execute("DELETE FROM sessions WHERE username = ?", [username])


def change_password(con, username: str, old_password: str, new_password: str, *, sleep=time.sleep) -> None:
    """A user changes their own password: the old one must be right (throttled like a sign-in)."""
    check_password(new_password)
    me = authenticate(con, username, old_password, sleep=sleep)
    if me is None:
        raise store.StoreError("Mật khẩu hiện tại không đúng; mật khẩu chưa được đổi")
    # no permission beyond knowing the old password: anyone may change their own
    _set_password(con, me.username, new_password, me, "user.password_change", permission=None)


def reset_password(con, username: str, new_password: str, *, actor: Actor) -> None:
    """An administrator sets a new password; the user's open sessions end."""
    require(actor, "users")
    check_password(new_password)
    if not con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise store.StoreError(f"Không có tài khoản '{username}'")
    _set_password(con, username, new_password, actor, "user.password_reset", permission="users",
                  end_sessions=True)


# --------------------------------------------------------------------------- sign-in throttling
# Failures are counted per account (from any address) and per client address (over any account,
# so spraying one password over many usernames is slowed too). The wait is the larger of the two,
# never more than MAX_DELAY: nobody can lock a real user into long waits. A client address with no
# recent failure waits at most FRESH_CLIENT_DELAY for the account's failures, so the real user
# signing in from their own machine gets in promptly while an attacker hammers the account.
MAX_FREE_FAILURES = 3
FAILURE_WINDOW = timedelta(minutes=15)
MAX_DELAY = 5.0
FRESH_CLIENT_DELAY = 1.0
ATTEMPT_RETENTION = timedelta(days=1)     # older sign-in attempts are purged on each sign-in


def _backoff(failures: int) -> float:
    if failures < MAX_FREE_FAILURES:
        return 0.0
    return min(2.0 ** (failures - MAX_FREE_FAILURES), MAX_DELAY)


def _recent_failures(con, column: str, value: str) -> int:
    """Failures since the last success (for that account or address) inside the window."""
    rows = con.execute(f"SELECT ok FROM login_attempts WHERE {column} = ? AND attempted_at > ? "
                       "ORDER BY attempted_at DESC LIMIT 20", [value, store.now() - FAILURE_WINDOW]).fetchall()
    failures = 0
    for (ok,) in rows:
        if ok:
            break
        failures += 1
    return failures


def throttle_delay(con, username: str, client: str | None = None) -> float:
    """Seconds to wait before checking a password: 0 for the first few failures, then doubling, capped."""
    account = _backoff(_recent_failures(con, "username", username))
    if client is None:
        return account
    by_client = _backoff(_recent_failures(con, "client", client))
    if by_client == 0.0:
        account = min(account, FRESH_CLIENT_DELAY)
    return max(account, by_client)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> bool:
    """One argon2 verify whether or not the account exists, so timing does not reveal accounts."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(con, username: str, password: str, *, client: str | None = None,
                 sleep=time.sleep) -> Actor | None:
    """Check a password; returns the Actor or None. ``client`` is the caller's address (for the
    per-address throttle). Slowed down after repeated failures; purges old attempts."""
    username = (username or "").strip()
    client = client if isinstance(client, str) and client else None   # (a test harness may hand a mock)
    with store.write(con, None, None, action=None):  # bookkeeping: purge old attempts
        con.execute("DELETE FROM login_attempts WHERE attempted_at < ?", [store.now() - ATTEMPT_RETENTION])
    delay = throttle_delay(con, username, client)
    if delay:
        sleep(delay)
    row = con.execute("SELECT password_hash, role, is_chair, active FROM users WHERE username = ?",
                      [username]).fetchone()
    usable = row is not None and row[3]
    ok = _verify(row[0] if usable else None, password or "")
    with store.write(con, None, None, action=None):  # sign-in bookkeeping: no permission, not audited
        con.execute("INSERT INTO login_attempts (username, attempted_at, ok, client) VALUES (?, ?, ?, ?)",
                    [username, store.now(), ok, client])
    return _actor(con, username, row[1], row[2]) if ok else None


# --------------------------------------------------------------------------- sessions (stay signed in)
SESSION_TTL = timedelta(days=7)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(con, actor: Actor) -> str:
    token = secrets.token_urlsafe(32)
    with store.write(con, actor, None, action=None):
        con.execute("DELETE FROM sessions WHERE expires_at <= ?", [store.now()])   # purge the expired
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                    [_token_hash(token), actor.username, store.now(), store.now() + SESSION_TTL])
    return token


def resume_session(con, token: str | None) -> Actor | None:
    if not token:
        return None
    # one query on every rerun of every page (the account and, for a unit account, its unit): it was
    # three for a unit account (session, migrations, user_units), ~9 % of a ranking rerun (issue 14)
    args = [_token_hash(token), store.now()]
    try:
        row = con.execute(
            "SELECT u.username, u.role, u.is_chair, uu.unit_code FROM sessions s JOIN users u USING (username) "
            "LEFT JOIN user_units uu ON uu.username = u.username "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND u.active", args).fetchone()
    except store.MissingTable:   # a database from before the lifecycle_v1 migration: no unit accounts yet
        row = con.execute(
            "SELECT u.username, u.role, u.is_chair, NULL FROM sessions s JOIN users u USING (username) "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND u.active", args).fetchone()
    if not row:
        return None
    return Actor(row[0], row[1], bool(row[2]), row[3] if row[1] == "unit" else None)


def end_session(con, token: str | None) -> None:
    if token:
        with store.write(con, None, None, action=None):
            con.execute("DELETE FROM sessions WHERE token_hash = ?", [_token_hash(token)])


def create_demo_accounts(con) -> None:
    """Only for a synthetic demo database: the four accounts the sign-in page names.

    Their password "demo" is the one exemption from MIN_PASSWORD_LENGTH: they are inserted here
    directly (not through add_user) and this refuses any database that is not a demo."""
    if not store.is_demo(con):
        raise store.StoreError("Tài khoản mẫu chỉ được tạo trong cơ sở dữ liệu minh họa")
    with store.write(con, CLI_ACTOR, "users", action="user.demo_accounts", after=sorted(DEMO_ACCOUNTS)):
        for username, role in DEMO_ACCOUNTS.items():
            if not con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, TRUE, ?)",
                            [username, role, hash_password(DEMO_PASSWORD), f"{ROLES[role]} (minh họa)",
                             role == "council", store.now()])


def demo_unit_accounts(con) -> dict[str, str]:
    """The demo's unit accounts (``xa_<code>`` → unit code), password "demo"; empty outside a demo."""
    raw = store.get_meta(con, "demo_unit_accounts") or ""
    return {f"xa_{c}": c for c in raw.split(",") if c}


def create_demo_unit_accounts(con, codes: list[str]) -> None:
    """Only for a synthetic demo database: ``xa_<code>`` unit accounts (password "demo", the same
    exemption as the other demo accounts), listed on the sign-in page."""
    if not store.is_demo(con):
        raise store.StoreError("Tài khoản mẫu chỉ được tạo trong cơ sở dữ liệu minh họa")
    store.migrate(con)
    with store.write(con, CLI_ACTOR, "users", action="user.demo_accounts", after=[f"xa_{c}" for c in codes]):
        for code in codes:
            name = f"xa_{code}"
            if con.execute("SELECT 1 FROM users WHERE username = ?", [name]).fetchone():
                continue
            con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, TRUE, ?)",
                        [name, "unit", hash_password(DEMO_PASSWORD), f"Cán bộ đơn vị {code} (minh họa)", False,
                         store.now()])
            con.execute("INSERT INTO user_units (username, unit_code) VALUES (?, ?)", [name, code])
        known = sorted(set(demo_unit_accounts(con).values()) | set(codes))
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ["demo_unit_accounts", ",".join(known)])
