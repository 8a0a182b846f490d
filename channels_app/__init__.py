"""Channels and their keys: the key edge (parse, verify once, the key cache), credits (the hold a chat takes, the
starting grant, moves between an organisation and its channels, top-up requests), the model catalog and its
upstreams, the events a channel emits, the forms and the staff admin of keys, credit requests and the catalog.

May import: teams (organisations, the policy, the audit log), accounts and gateway.infra. It never imports the
rooms above it (knowledge, conversations, alerts, dashboard): events go out through the `events.emitted` signal,
which alerts connects; in its AppConfig.ready it registers teams.policy's channel loader and listens to accounts'
`email_confirmed`. The pages that show channels are the dashboard app's.
"""
