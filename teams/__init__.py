"""Organisations: members and roles, the one dashboard policy (policy.py, roles.py), invitations, OpenID Connect
single sign-on, the audit log, and staff grants to an organisation's own credits (credits.py). docs/teams.md.

May import: accounts, gateway.infra and gateway.overrides. It never imports channels or the rooms above: the
policy decides on a channel through its organisation and loads it with the loader channels_app registers, and
the organisation's pages that read channels or the chat engine (credits, usage, activity) live in dashboard/ and
conversations/, joined to the `teams` URL namespace by gateway/urls.py.
"""
