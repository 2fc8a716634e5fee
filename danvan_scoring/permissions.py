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
}

PERMISSIONS: dict[str, set[str]] = {
    "leader": {"view"},
    "council": {"view", "weights", "awards"},
    "staff": {"view", "import", "undo"},
    "admin": {"view", "weights", "import", "undo", "publish", "users", "blocks", "units", "setup", "awards"},
}

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
}


class PermissionDenied(StoreError):
    """The actor's role does not allow the write; nothing was written."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    is_chair: bool = False

    def can(self, permission: str) -> bool:
        if permission == "publish" and self.role == "council" and self.is_chair:
            return True
        return permission in PERMISSIONS.get(self.role, set())


CLI_ACTOR = Actor("danvan-cli", "admin")


def require(actor: Actor, permission: str) -> None:
    """Raise PermissionDenied (in Vietnamese: who, which role, what) unless ``actor`` may ``permission``."""
    if not isinstance(actor, Actor) or not actor.can(permission):
        who = getattr(actor, "username", actor)
        role = ROLES.get(getattr(actor, "role", ""), getattr(actor, "role", "?"))
        raise PermissionDenied(
            f"Tài khoản '{who}' ({role}) không có quyền {ACTION_LABELS.get(permission, permission)}."
        )
