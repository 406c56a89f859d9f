"""State changes of staff accounts."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from manyi.desk.accounts.models import Team
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
    username: str,
    password: str,
    *,
    role: Role,
    superuser: bool = False,
    teams: tuple[str, ...] = (),
    email: str = "",
) -> Credentials:
    """Create the user, or reset the password, role and teams of an existing one (idempotent).

    ``teams`` are team codes; a team that does not exist yet is created with the code as name.
    """
    groups = ensure_roles()
    with transaction.atomic():
        user, _created = User.objects.select_for_update().get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = superuser
        if email:
            user.email = email
        user.set_password(password)
        user.save()
        user.groups.set([groups[role]])
        if teams:
            user.teams.set([ensure_team(code) for code in teams])
    return Credentials(username, password, "admin" if superuser else role.value)


def ensure_team(code: str, name: str | None = None) -> Team:
    """The team with ``code``, created (named ``name`` or ``code``) if missing."""
    team, created = Team.objects.get_or_create(code=code, defaults={"name": name or code})
    if not created and name and team.name != name:
        team.name = name
        team.save(update_fields=["name"])
    return team
