"""Reads for the organisation pages, always of one organisation the policy has already allowed."""

import datetime as dt

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from teams.models import AuditEntry, Invitation, Membership, Organisation


def members(organisation: Organisation) -> list[Membership]:
    return list(organisation.memberships.select_related("user").order_by("created_at", "id"))


def get_membership(organisation: Organisation, public_id) -> Membership:
    """A membership of this organisation; 404 for any other."""
    return get_object_or_404(Membership.objects.select_related("user", "organisation"), organisation=organisation, public_id=public_id)


def open_invitations(organisation: Organisation) -> list[Invitation]:
    return list(organisation.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_related("invited_by"))


def get_invitation(organisation: Organisation, public_id) -> Invitation:
    return get_object_or_404(Invitation.objects.select_related("organisation"), organisation=organisation, public_id=public_id)


def audit_entries(organisation: Organisation, *, action: str = "", actor: str = "", since: dt.date | None = None,
                  until: dt.date | None = None) -> QuerySet[AuditEntry]:
    """The organisation's audit log, newest first, filtered."""
    entries = AuditEntry.objects.filter(organisation=organisation)
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_email__iexact=actor.strip())
    if since:
        entries = entries.filter(created_at__date__gte=since)
    if until:
        entries = entries.filter(created_at__date__lte=until)
    return entries.order_by("-created_at", "-id")
