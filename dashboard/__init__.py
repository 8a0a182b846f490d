"""The owner dashboard: every page a channel's or an organisation's owner (and their team) sees, with its forms.

A channel's pages (list, detail, settings, keys, widget, credits, deletion; its conversations, transcripts, exports,
usage, activity log, alerts and Knowledge page) and an organisation's (members, invitations, settings, audit log,
credits, usage, activity), the template tags, the context processor, and the staff admin's channel list with its
spend. Each page is gated by the one policy (`teams.policy.requires`); its reads come from the selectors of the
room that owns the data (or `selectors.py` here when it reads across rooms), its writes from that room's services.

It sits at the top of the layers, below only the entry points (gateway.urls includes `urls.py` and
`organisation_urls.py`): it may import every app (channels_app, conversations, knowledge, teams, accounts, alerts)
and gateway.infra, and no app imports it. It has no models.
"""
