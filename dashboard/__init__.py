"""The owner dashboard's pages that read across rooms: what a channel's or an organisation's owner sees beside the
numbers the chat engine keeps (the usage roll-ups, the charts), and the staff admin's channel list with its spend.

It sits at the top of the layers, below only the entry points (gateway.urls includes its routes): it may import
every app (channels_app, conversations, knowledge, teams, accounts, alerts) and gateway.infra, and no app imports
it. A page that reads only its own room stays in that room's app; one that reads the chat engine's records
beside another room's lives here, so the rooms below never import upwards. It has no models.
"""
