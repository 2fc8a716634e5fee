"""Local accounts and sessions (roles and permissions live in ``permissions``).

Passwords are stored as argon2 hashes; failed sign-ins are slowed down after a few attempts.
"""

from __future__ import annotations

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
             display_name: str | None = None, is_chair: bool = False) -> None:
    require(actor, "users")
    if role not in ROLES:
        raise store.StoreError(f"Vai trò '{role}' không hợp lệ; chỉ nhận: {', '.join(ROLES)}")
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise store.StoreError("Tên đăng nhập chỉ gồm chữ, số, dấu chấm và gạch dưới")
    if len(password) < 4:
        raise store.StoreError("Mật khẩu phải có ít nhất 4 ký tự")
    with store.write(con, actor, "users", action="user.add", target=username,
                     after={"role": role, "is_chair": is_chair}):
        if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise store.StoreError(f"Tài khoản '{username}' đã tồn tại")
        con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, TRUE, ?)",
                    [username, role, hash_password(password), display_name or username, is_chair, store.now()])


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


MAX_FREE_FAILURES = 3
FAILURE_WINDOW = timedelta(minutes=15)


def throttle_delay(con, username: str) -> float:
    """Seconds to wait before checking a password: 0 for the first few failures, then doubling."""
    since = store.now() - FAILURE_WINDOW
    rows = con.execute("SELECT ok FROM login_attempts WHERE username = ? AND attempted_at > ? ORDER BY attempted_at DESC LIMIT 20",
                       [username, since]).fetchall()
    failures = 0
    for (ok,) in rows:
        if ok:
            break
        failures += 1
    if failures < MAX_FREE_FAILURES:
        return 0.0
    return min(2.0 ** (failures - MAX_FREE_FAILURES), 30.0)


def authenticate(con, username: str, password: str, *, sleep=time.sleep) -> Actor | None:
    """Check a password; returns the Actor or None. Slowed down after repeated failures."""
    username = (username or "").strip()
    delay = throttle_delay(con, username)
    if delay:
        sleep(delay)
    row = con.execute("SELECT password_hash, role, is_chair, active FROM users WHERE username = ?",
                      [username]).fetchone()
    ok = False
    if row is not None and row[3]:
        try:
            ok = _hasher.verify(row[0], password or "")
        except (VerificationError, InvalidHashError):
            ok = False
    with store.write(con, None, None, action=None):  # sign-in bookkeeping: no permission, not audited
        con.execute("INSERT INTO login_attempts VALUES (?, ?, ?)", [username, store.now(), ok])
    return Actor(username, row[1], bool(row[2])) if ok else None


# --------------------------------------------------------------------------- sessions (stay signed in)
SESSION_TTL = timedelta(days=7)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(con, actor: Actor) -> str:
    token = secrets.token_urlsafe(32)
    with store.write(con, actor, None, action=None):
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                    [_token_hash(token), actor.username, store.now(), store.now() + SESSION_TTL])
    return token


def resume_session(con, token: str | None) -> Actor | None:
    if not token:
        return None
    row = con.execute(
        "SELECT u.username, u.role, u.is_chair FROM sessions s JOIN users u USING (username) "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND u.active", [_token_hash(token), store.now()]).fetchone()
    return Actor(row[0], row[1], bool(row[2])) if row else None


def end_session(con, token: str | None) -> None:
    if token:
        with store.write(con, None, None, action=None):
            con.execute("DELETE FROM sessions WHERE token_hash = ?", [_token_hash(token)])


def create_demo_accounts(con) -> None:
    """Only for a synthetic demo database: the four accounts the sign-in page names."""
    if not store.is_demo(con):
        raise store.StoreError("Tài khoản mẫu chỉ được tạo trong cơ sở dữ liệu minh họa")
    with store.write(con, CLI_ACTOR, "users", action="user.demo_accounts", after=sorted(DEMO_ACCOUNTS)):
        for username, role in DEMO_ACCOUNTS.items():
            if not con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, TRUE, ?)",
                            [username, role, hash_password(DEMO_PASSWORD), f"{ROLES[role]} (minh họa)",
                             role == "council", store.now()])
