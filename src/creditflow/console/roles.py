"""What each role may do, in one place: the console's pages and actions ask `allows` or `require`.

viewer reads everything; admin also moves money and changes configuration; owner also manages console users
and operator API keys.
"""

from __future__ import annotations

from enum import StrEnum

from creditflow.console.models import Role
from creditflow.errors import Forbidden


class Permission(StrEnum):
    READ = "read"
    MOVE_MONEY = "move_money"
    CHANGE_CONFIG = "change_config"
    MANAGE_USERS = "manage_users"
    MANAGE_KEYS = "manage_keys"


_VIEWER = frozenset({Permission.READ})
_ADMIN = _VIEWER | {Permission.MOVE_MONEY, Permission.CHANGE_CONFIG}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _ADMIN | {Permission.MANAGE_USERS, Permission.MANAGE_KEYS},
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def require(role: Role, permission: Permission) -> None:
    if not allows(role, permission):
        raise Forbidden(f"the {role} role may not {permission.replace('_', ' ')}",
                        details={"role": str(role), "permission": str(permission)})
