"""Writes to organisations and memberships. Every change by a person is audited (teams/audit.py)."""

from django.db import transaction

from teams import audit
from teams.models import Membership, Organisation
from teams.roles import Role

NAME_MAX = 100


class LastOwner(Exception):
    """The organisation would be left without an owner."""

    message = "An organisation needs an owner: make someone else owner first."


def personal_organisation(user) -> Organisation:
    """The user's personal organisation, made (with them as owner) the first time it is needed."""
    with transaction.atomic():
        org = Organisation.objects.filter(personal_for=user).order_by("pk").first()
        if org is None:
            org = Organisation.objects.create(name=(user.email or user.username)[:NAME_MAX], personal_for=user)
        Membership.objects.get_or_create(organisation=org, user=user, defaults={"role": Role.OWNER})
    return org


@transaction.atomic
def organisation_create(*, user, name: str, request=None) -> Organisation:
    org = Organisation.objects.create(name=name[:NAME_MAX])
    Membership.objects.create(organisation=org, user=user, role=Role.OWNER)
    audit.record(organisation=org, actor=user, action="organisation.create", request=request, target=org.name)
    return org


@transaction.atomic
def organisation_rename(*, organisation: Organisation, name: str, actor, request=None) -> bool:
    """Give the organisation a new name (audited); False when it already had it."""
    name = name.strip()[:NAME_MAX]
    before = Organisation.objects.select_for_update().values_list("name", flat=True).get(pk=organisation.pk)
    if name == before:
        return False
    Organisation.objects.filter(pk=organisation.pk).update(name=name)
    organisation.name = name
    audit.record(
        organisation=organisation, actor=actor, action="organisation.rename", request=request,
        target=f"organisation {name}", changes={"name": [before, name]},
    )
    return True


def _lock_owners(org: Organisation) -> int:
    """Lock the organisation's owner rows and count them, so two demotions cannot both pass the check."""
    return len(list(Membership.objects.select_for_update().filter(organisation=org, role=Role.OWNER)))


@transaction.atomic
def membership_add(*, organisation: Organisation, user, role: str, actor, request=None, via: str = "") -> Membership:
    membership, created = Membership.objects.get_or_create(organisation=organisation, user=user, defaults={"role": role})
    if created:
        audit.record(
            organisation=organisation, actor=actor, action="member.add", request=request,
            target=f"member {user.email}", changes={"role": [None, role], **({"via": [None, via]} if via else {})},
        )
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor, request=None) -> None:
    if role == membership.role:
        return
    if membership.role == Role.OWNER and _lock_owners(membership.organisation) <= 1:
        raise LastOwner()
    before = membership.role
    Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role
    audit.record(
        organisation=membership.organisation, actor=actor, action="member.role", request=request,
        target=f"member {membership.user.email}", changes={"role": [before, role]},
    )


@transaction.atomic
def membership_remove(*, membership: Membership, actor, request=None) -> None:
    """Remove a member (or let them leave, when actor is the member); never the last owner."""
    if membership.role == Role.OWNER and _lock_owners(membership.organisation) <= 1:
        raise LastOwner()
    membership.delete()
    leaving = actor is not None and actor.pk == membership.user_id
    audit.record(
        organisation=membership.organisation, actor=actor, action="member.leave" if leaving else "member.remove",
        request=request, target=f"member {membership.user.email}", changes={"role": [membership.role, None]},
    )
