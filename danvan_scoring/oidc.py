"""Sign-in through an organisation's identity provider (OpenID Connect): claims → role.

Optional. The dashboard's embedded default is local accounts (``auth``). When the Streamlit
secrets hold an ``[auth]`` section (Streamlit's own ``st.login`` settings), the sign-in page
also offers the provider; this module decides who the person is and which role they get,
from the claims the provider sent. Pure functions: nothing here talks to the provider or to
Streamlit, so the rules are tested without either.

The role comes from one claim (``danvan_role`` unless configured otherwise) holding a role code
— ``leader``, ``council``, ``staff``, ``admin`` — or a list of them (a group claim). Nobody gets
a role by default: a person without a recognised role is refused, with a Vietnamese reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import store
from .permissions import ROLES, Actor, PermissionDenied

TRUE_WORDS = {"1", "true", "yes", "y", "co", "có", "x"}


class OidcSettings(BaseModel):
    """``[danvan_oidc]`` in ``.streamlit/secrets.toml`` — every key optional."""

    model_config = ConfigDict(extra="forbid")

    provider: str | None = Field(None, description="named provider ([auth.NAME]); empty = the [auth] section")
    role_claim: str = "danvan_role"
    chair_claim: str | None = "danvan_chair"
    username_claims: list[str] = Field(default_factory=lambda: ["preferred_username", "email", "sub"], min_length=1)
    button_label: str = "Đăng nhập bằng tài khoản cơ quan"

    @field_validator("role_claim", "button_label")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("không được để trống")
        return v.strip()


def settings_from(section: Mapping[str, Any] | None) -> OidcSettings:
    """Validated settings; a wrong key or value is named in Vietnamese (a StoreError)."""
    from .messages import validate_file

    return validate_file(OidcSettings, dict(section or {}), "secrets.toml [danvan_oidc]", store.StoreError, {})


def _roles_in(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple, set)) else str(value).replace(",", " ").split()
    out = []
    for item in items:
        code = str(item).strip().lower()
        if code in ROLES and code not in out:
            out.append(code)
    return out


def username_of(claims: Mapping[str, Any], settings: OidcSettings) -> str | None:
    for name in settings.username_claims:
        v = claims.get(name)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def actor_from_claims(claims: Mapping[str, Any], settings: OidcSettings | None = None) -> Actor:
    """The Actor for a signed-in provider user, or PermissionDenied saying why not.

    One recognised role is needed; ``admin`` among several wins (it holds every permission),
    any other mix is refused rather than guessed. The chair flag only applies to the council.
    """
    settings = settings or OidcSettings()
    who = username_of(claims, settings)
    if who is None:
        raise PermissionDenied(
            "Nhà cung cấp định danh không gửi tên người dùng (một trong các trường "
            f"{', '.join(settings.username_claims)}); không đăng nhập được.")
    roles = _roles_in(claims.get(settings.role_claim))
    if not roles:
        raise PermissionDenied(
            f"Tài khoản {who} chưa được cấp vai trò trên bảng điều khiển (trường '{settings.role_claim}' "
            f"phải là một trong: {', '.join(ROLES)}). Hãy đề nghị quản trị viên cấp quyền.")
    if "admin" in roles:
        role = "admin"
    elif len(roles) > 1:
        raise PermissionDenied(
            f"Tài khoản {who} có nhiều vai trò ({', '.join(ROLES[r] for r in roles)}); bảng điều khiển cần "
            "đúng một vai trò. Hãy đề nghị quản trị viên chỉ cấp một vai trò.")
    else:
        role = roles[0]
    chair = False
    if role == "council" and settings.chair_claim:
        flag = claims.get(settings.chair_claim)
        chair = flag is True or str(flag).strip().lower() in TRUE_WORDS
    return Actor(who, role, is_chair=chair)
