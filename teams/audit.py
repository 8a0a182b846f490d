"""The organisation audit log's one writer: who changed what, when, from where.

Changes are recorded as {"field": [before, after]}. Secrets never enter it: a key is named by its
mask, an SSO client secret only as "changed". conversations.AuditEvent stays the record of what was
done to visitors' data (erasures, purges, also by API and schedule); a person's erasure from the
dashboard is recorded here too, so the organisation's log is complete.
"""

import datetime as dt

from axes.helpers import get_client_ip_address
from django.utils import timezone

from teams.models import AuditEntry, Organisation

SECRET_FIELDS = frozenset({"client_secret", "password", "token", "key"})


def _now() -> dt.datetime:
    return timezone.now()


def diff(before: dict, after: dict) -> dict:
    """The fields whose value changed, as {"field": [before, after]}; secret fields only as changed."""
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = ["…", "changed"] if name in SECRET_FIELDS else [_plain(old), _plain(new)]
    return changes


def _plain(value):
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    return str(value)


def record(
    *,
    organisation: Organisation,
    actor,
    action: str,
    request=None,
    target: str = "",
    channel=None,
    changes: dict | None = None,
) -> AuditEntry:
    """Write one entry. `request` gives the address (through the same proxy rules as django-axes)."""
    ip = (get_client_ip_address(request) or None) if request is not None else None
    return AuditEntry.objects.create(
        organisation=organisation,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_email=getattr(actor, "email", "") or "",
        ip_address=ip,
        action=action,
        target=target[:200],
        channel_public_id=channel.public_id if channel is not None else None,
        changes=changes or {},
        created_at=_now(),
    )


def purge(*, now: dt.datetime | None = None) -> int:
    """Delete entries older than their organisation's audit_retention_days; returns how many."""
    now = now or _now()
    deleted = 0
    for org in Organisation.objects.all().only("pk", "audit_retention_days"):
        cutoff = now - dt.timedelta(days=org.audit_retention_days)
        deleted += AuditEntry.objects.filter(organisation=org, created_at__lt=cutoff).delete()[0]
    return deleted


def record_channel(request, action: str, *, changes: dict | None = None, detail: str = "") -> AuditEntry:
    """Write one entry for a change the signed-in member made to the channel their request's policy decided on."""
    channel = request.channel
    target = f"channel {channel.name}" + (f": {detail}" if detail else "")
    return record(
        organisation=channel.organisation, actor=request.user, action=action, request=request, target=target,
        channel=channel, changes=changes,
    )


def form_changes(form) -> dict:
    """A bound form's changed fields as {"field": [before, after]}, before taken from the form's initial values."""
    return diff({n: form.initial.get(n) for n in form.changed_data}, {n: form.cleaned_data[n] for n in form.changed_data})
