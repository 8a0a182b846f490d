"""Organisations: members and roles, the one dashboard policy (policy.py, roles.py), invitations, OpenID Connect
single sign-on, the audit log, and staff grants to an organisation's own credits (credits.py). docs/teams.md.

Its own views are the flows of a person who is not yet in the dashboard: accepting an invitation
(accept_views.py) and single sign-on (sso_views.py: the sign-in and the organisation's SSO settings, which the
sign-in's forms share). The organisation's other pages are the dashboard's (dashboard/organisation_urls.py, still
the `teams` URL namespace).

May import: accounts, gateway.infra and gateway.overrides. It never imports channels or the rooms above: the
policy decides on a channel through its organisation and loads it with the loader channels_app registers.
"""
