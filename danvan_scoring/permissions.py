"""Roles, the permission table and the check every write makes (imports only ``errors``).

Every write function in the library takes an :class:`Actor` and checks it (through
``store.write``), so a page bug cannot write what its user may not.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import StoreError

ROLES = {
    "leader": "Lãnh đạo",
    "council": "Hội đồng thi đua",
    "staff": "Cán bộ nhập liệu",
    "admin": "Quản trị",
    "unit": "Cán bộ đơn vị",
}

PERMISSIONS: dict[str, set[str]] = {
    "leader": {"view", "progress"},
    "council": {"view", "progress", "weights", "awards", "appraise", "objections"},
    "staff": {"view", "progress", "import", "undo", "dossier", "appraise"},
    "admin": {"view", "progress", "weights", "import", "undo", "publish", "users", "blocks", "units", "setup",
              "awards", "dossier", "appraise", "objection", "objections", "lifecycle"},
    # a commune's own officer: its own dossier (self-scores, evidence, submission) and objections only
    "unit": {"view", "dossier", "objection"},
}

# permissions a unit account holds only for its own unit (``require(actor, p, unit=...)``)
UNIT_SCOPED = {"dossier", "objection"}
# what the council chair may do beyond the council's permissions
CHAIR_EXTRA = {"publish", "lifecycle"}

ACTION_LABELS = {
    "weights": "sửa trọng số",
    "import": "nhập dữ liệu",
    "undo": "hoàn tác lô nhập",
    "publish": "công bố kết quả, chọn bộ trọng số chính thức",
    "users": "quản lý người dùng",
    "blocks": "sửa khối thi đua",
    "units": "thêm đơn vị",
    "awards": "ghi kết quả biểu quyết khen thưởng của Hội đồng thi đua",
    "setup": "khởi tạo cơ sở dữ liệu (kỳ đánh giá, bộ tiêu chí, danh mục đơn vị)",
    "dossier": "tự chấm điểm, đính kèm minh chứng và nộp hồ sơ tự đánh giá",
    "appraise": "thẩm định hồ sơ tự đánh giá",
    "objection": "gửi kiến nghị về kết quả",
    "objections": "giải quyết kiến nghị của đơn vị",
    "lifecycle": "chuyển giai đoạn hoặc mở lại kỳ đánh giá",
}
# what a role may read beyond "view" (not a write: no entry in ACTION_LABELS' write checks)
READ_LABELS = {"progress": "xem tiến độ nộp hồ sơ của mọi đơn vị"}


class PermissionDenied(StoreError):
    """The actor's role does not allow the write; nothing was written."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    is_chair: bool = False
    # the one unit a ``unit`` account speaks for (None for every other role)
    unit_code: str | None = None

    def can(self, permission: str, unit: str | None = None) -> bool:
        """May this actor ``permission``; for a unit account and a unit-scoped permission, only
        for its own ``unit`` (a unit account without a unit, or naming none, may not)."""
        if permission in CHAIR_EXTRA and self.role == "council" and self.is_chair:
            return True
        if permission not in PERMISSIONS.get(self.role, set()):
            return False
        if self.role == "unit" and (permission in UNIT_SCOPED or unit is not None):
            return self.unit_code is not None and unit == self.unit_code
        return True

    def sees_unit(self, unit: str) -> bool:
        """May this actor read ``unit``'s dossier (a unit account: its own only)."""
        return self.role != "unit" or unit == self.unit_code


CLI_ACTOR = Actor("danvan-cli", "admin")


def require(actor: Actor, permission: str, unit: str | None = None) -> None:
    """Raise PermissionDenied (in Vietnamese: who, which role, what) unless ``actor`` may ``permission``
    (for ``unit``, when the write concerns one unit)."""
    if not isinstance(actor, Actor) or not actor.can(permission, unit):
        who = getattr(actor, "username", actor)
        role = ROLES.get(getattr(actor, "role", ""), getattr(actor, "role", "?"))
        what = ACTION_LABELS.get(permission, permission)
        own = getattr(actor, "unit_code", None)
        if isinstance(actor, Actor) and actor.role == "unit" and permission in PERMISSIONS["unit"]:
            raise PermissionDenied(
                f"Tài khoản '{who}' ({role} {own or 'chưa gắn đơn vị'}) chỉ được {what} cho đơn vị "
                f"của mình, không cho đơn vị {unit or '(không nêu)'}.")
        raise PermissionDenied(f"Tài khoản '{who}' ({role}) không có quyền {what}.")
