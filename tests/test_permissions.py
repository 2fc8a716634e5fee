"""Roles and the permission table: who may write what, and the Vietnamese refusal."""

import pytest

from danvan_scoring import errors, permissions
from danvan_scoring.permissions import ACTION_LABELS, CLI_ACTOR, PERMISSIONS, ROLES, Actor, require


def test_every_role_has_a_label_and_every_permission_a_label():
    assert set(PERMISSIONS) == set(ROLES)
    for perms in PERMISSIONS.values():
        assert perms - {"view"} <= set(ACTION_LABELS) | set(permissions.READ_LABELS)


@pytest.mark.parametrize("role, allowed", [
    ("leader", set()),
    ("council", {"weights", "awards", "appraise", "objections"}),
    ("staff", {"import", "undo", "dossier", "appraise"}),
    ("admin", set(ACTION_LABELS)),
    ("unit", set()),                        # a unit account writes nothing without naming its unit
])
def test_what_each_role_may_write(role, allowed):
    a = Actor("x", role)
    assert {p for p in ACTION_LABELS if a.can(p)} == allowed


def test_only_the_council_chair_may_also_publish():
    assert Actor("c", "council", is_chair=True).can("publish")
    assert not Actor("c", "council").can("publish")
    assert not Actor("s", "staff", is_chair=True).can("publish")


def test_refusal_names_who_which_role_and_what():
    with pytest.raises(permissions.PermissionDenied) as exc:
        require(Actor("lanhdao", "leader"), "import")
    assert str(exc.value) == "Tài khoản 'lanhdao' (Lãnh đạo) không có quyền nhập dữ liệu."
    assert isinstance(exc.value, errors.StoreError)   # callers that catch StoreError still see it


@pytest.mark.parametrize("not_an_actor", [None, "danvan-cli", {"username": "x", "role": "admin"}])
def test_anything_but_an_actor_is_refused(not_an_actor):
    with pytest.raises(permissions.PermissionDenied):
        require(not_an_actor, "view")


def test_the_cli_is_an_admin():
    require(CLI_ACTOR, "setup")
    assert CLI_ACTOR.role == "admin"


def test_a_unit_account_writes_only_its_own_dossier_and_objections():
    me = Actor("xa_00004", "unit", unit_code="00004")
    assert me.can("dossier", "00004") and me.can("objection", "00004")
    assert not me.can("dossier", "00007") and not me.can("objection", None)
    assert not me.can("import") and not me.can("appraise", "00004") and not me.can("weights")
    with pytest.raises(permissions.PermissionDenied) as exc:
        require(me, "dossier", "00007")
    assert "00007" in str(exc.value) and "đơn vị của mình" in str(exc.value)
    assert me.sees_unit("00004") and not me.sees_unit("00007")
    assert not Actor("u", "unit").can("dossier", "00004")            # a unit account with no unit


def test_the_chair_also_moves_the_period():
    assert Actor("c", "council", is_chair=True).can("lifecycle")
    assert not Actor("c", "council").can("lifecycle")
