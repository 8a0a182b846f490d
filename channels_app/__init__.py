"""Channels and their keys: the key edge (parse, refuse a wrong kind, verify once; the key cache), credits (the hold
a chat takes, the starting grant, moves between an organisation and its channels, top-up requests), retiring a
model (its channels move), the events a channel emits, and the staff admin of keys, credit requests and the catalog.
Below the rest of it, `providers/`: the model catalog and the provider client (it knows no channel).

May import: teams (organisations, the policy, the audit log), accounts and gateway.infra. It never imports the
rooms above it (knowledge, conversations, alerts, dashboard): events go out through the `events.emitted` signal,
which alerts connects; in its AppConfig.ready it registers teams.policy's channel loader and listens to accounts'
`email_confirmed`. The pages and forms that show channels are the dashboard's.
"""
