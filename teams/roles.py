"""The four roles and what each may do: the table the one policy function (teams/policy.py) reads.

Actions are named `<object>.<verb>`. A role that is not listed for an action may not do it.
"""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    DEVELOPER = "developer", "Developer"
    ANALYST = "analyst", "Analyst"


O, A, D, N = Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.ANALYST
EVERYONE = frozenset({O, A, D, N})

# What each action needs. Analysts read conversations and usage but never a key; developers integrate
# and handle keys (reveal and rotate also need a recent password, accounts/reauth.py); admins run
# channels, keys and the widget; owners also manage people, credits, SSO and deletion.
ACTIONS: dict[str, frozenset[str]] = {
    # The organisation
    "org.view": EVERYONE,  # its channel list, its switcher
    "org.create": EVERYONE,  # a new organisation, of which the user is the owner
    "org.usage": frozenset({O, A, N}),
    "org.members": frozenset({O}),  # invite, change roles, remove
    "org.members.view": EVERYONE,
    "org.rename": frozenset({O, A}),
    "org.credits": frozenset({O, A}),  # the organisation's balance, and moving credits to and from its channels
    "org.sso": frozenset({O}),
    "org.sso.link": EVERYONE,  # link one's own account to the organisation's identity provider
    "org.audit": frozenset({O, A}),
    "org.delete": frozenset({O}),
    "org.leave": EVERYONE,
    # Channels
    "channel.create": frozenset({O, A}),
    "channel.view": EVERYONE,
    "channel.edit": frozenset({O, A}),
    "channel.integrate": frozenset({O, A, D}),
    "channel.credits": frozenset({O}),
    "channel.delete": frozenset({O}),
    # Secret keys
    "key.view": frozenset({O, A, D}),  # masked keys and who revealed them
    "key.reveal": frozenset({O, A, D}),
    "key.create": frozenset({O, A, D}),  # another named key (shown once, so it needs a recent password too)
    "key.edit": frozenset({O, A}),  # a key's name and its own limits
    "key.rotate": frozenset({O, A, D}),
    "key.revoke": frozenset({O, A}),
    # The widget (its publishable key is public by design, its settings are the admin's)
    "widget.view": frozenset({O, A, D}),
    "widget.edit": frozenset({O, A}),
    # Visitors' data
    "conversations.view": frozenset({O, A, N}),
    "conversations.export": frozenset({O, A, N}),
    "conversations.erase": frozenset({O, A}),
    "usage.view": frozenset({O, A, N}),
    # Every API request of a channel (or of the organisation's channels): what it was, never a key
    "activity.view": frozenset({O, A, N}),
    # Alerts: thresholds, the webhook and its signing secret (shown once), the delivery log
    "alerts.manage": frozenset({O, A}),
    # Knowledge (knowledge/): analysts read the sources and the unanswered questions; admins change them
    "knowledge.view": frozenset({O, A, N}),
    "knowledge.manage": frozenset({O, A}),
}


def allows(role: str, action: str) -> bool:
    """Whether `role` may do `action`; an unknown action is refused (fail closed)."""
    return role in ACTIONS.get(action, frozenset())
