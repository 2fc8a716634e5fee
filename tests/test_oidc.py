"""OIDC claims → role: one recognised role, admin wins, no default role, Vietnamese refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from danvan_scoring import permissions, store
from danvan_scoring.oidc import OidcSettings, actor_from_claims, settings_from
from danvan_scoring.permissions import ROLES


def test_role_and_username_from_the_claims():
    a = actor_from_claims({"sub": "u1", "email": "an@tinh.gov.vn", "danvan_role": "leader"})
    assert (a.username, a.role, a.is_chair) == ("an@tinh.gov.vn", "leader", False)
    a = actor_from_claims({"sub": "u2", "preferred_username": "hdtd.chutich", "danvan_role": ["council"],
                           "danvan_chair": True})
    assert (a.username, a.role, a.is_chair) == ("hdtd.chutich", "council", True)
    assert a.can("publish") and a.can("weights") and not a.can("import")


def test_a_group_claim_and_a_configured_claim_name():
    s = OidcSettings(role_claim="groups", chair_claim=None)
    a = actor_from_claims({"sub": "u3", "groups": ["nhan-vien", "Staff"]}, s)
    assert a.role == "staff" and a.username == "u3"
    assert actor_from_claims({"sub": "u4", "groups": "leader admin"}, s).role == "admin"


@pytest.mark.parametrize("claims, words", [
    ({"sub": "u5"}, "chưa được cấp vai trò"),
    ({"sub": "u6", "danvan_role": "superuser"}, "chưa được cấp vai trò"),
    ({"sub": "u7", "danvan_role": ["council", "staff"]}, "nhiều vai trò"),
    ({"danvan_role": "leader"}, "tên người dùng"),
])
def test_refusals_say_why_in_vietnamese(claims, words):
    with pytest.raises(permissions.PermissionDenied, match=words):
        actor_from_claims(claims)


def test_chair_flag_only_for_the_council():
    assert not actor_from_claims({"sub": "u8", "danvan_role": "leader", "danvan_chair": "true"}).is_chair
    assert actor_from_claims({"sub": "u9", "danvan_role": "council", "danvan_chair": "có"}).is_chair
    assert not actor_from_claims({"sub": "u9", "danvan_role": "council", "danvan_chair": "false"}).is_chair


@given(st.dictionaries(st.sampled_from(["sub", "email", "danvan_role", "groups", "x"]),
                       st.one_of(st.text(max_size=12), st.lists(st.text(max_size=8), max_size=4), st.booleans(),
                                 st.none())))
def test_no_claims_ever_give_a_role_that_is_not_in_them(claims):
    """Whatever the provider sends, a role is granted only when its code is in the role claim."""
    try:
        a = actor_from_claims(claims)
    except permissions.PermissionDenied:
        return
    sent = claims.get("danvan_role")
    words = sent if isinstance(sent, list) else str(sent).replace(",", " ").split()
    assert a.role in ROLES and a.role in {str(w).strip().lower() for w in words}


def test_bad_settings_are_named():
    with pytest.raises(store.StoreError, match="role_claim"):
        settings_from({"role_claim": "  "})
    with pytest.raises(store.StoreError, match="danvan_oidc"):
        settings_from({"vai_tro": "x"})
    assert settings_from(None) == OidcSettings()
