"""State changes of staff accounts."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from manyi.desk.accounts.roles import ROLE_PERMISSIONS, Role


def ensure_roles() -> dict[Role, Group]:
    """Create or update one group per role with exactly its permissions (idempotent)."""
    groups: dict[Role, Group] = {}
    with transaction.atomic():
        for role, wanted in ROLE_PERMISSIONS.items():
            group, _created = Group.objects.get_or_create(name=role.value)
            permissions = []
            for dotted in wanted:
                app_label, codename = dotted.split(".", 1)
                permissions.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
            group.permissions.set(permissions)
            groups[role] = group
    return groups


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    role: str


def create_staff_user(
    username: str, password: str, *, role: Role, superuser: bool = False
) -> Credentials:
    """Create the user, or reset the password and role of an existing one (idempotent)."""
    groups = ensure_roles()
    with transaction.atomic():
        user, _created = User.objects.select_for_update().get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = superuser
        user.set_password(password)
        user.save()
        user.groups.set([groups[role]])
    return Credentials(username, password, "admin" if superuser else role.value)
