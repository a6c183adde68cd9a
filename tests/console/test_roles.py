"""console/roles.py: viewer reads; admin also moves money and configures; owner also manages users and keys."""

from __future__ import annotations

import pytest

from creditflow.console.models import Role
from creditflow.console.roles import Permission, allows, require
from creditflow.errors import Forbidden

P = Permission


@pytest.mark.parametrize(("role", "permitted"), [
    (Role.VIEWER, {P.READ}),
    (Role.ADMIN, {P.READ, P.MOVE_MONEY, P.CHANGE_CONFIG}),
    (Role.OWNER, set(Permission)),
])
def test_each_role_has_exactly_its_permissions(role: Role, permitted: set[Permission]) -> None:
    assert {p for p in Permission if allows(role, p)} == permitted


def test_require_refuses_with_forbidden() -> None:
    require(Role.ADMIN, P.MOVE_MONEY)
    with pytest.raises(Forbidden) as refused:
        require(Role.ADMIN, P.MANAGE_USERS)
    assert refused.value.details == {"role": "admin", "permission": "manage_users"}
