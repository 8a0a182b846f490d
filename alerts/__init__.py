"""What a channel's owner is told: the events channels emit (recorded from channels_app.events' signal, which
AlertsConfig.ready connects), threshold alerts, e-mails and signed webhooks with their sealed signing secrets,
the background jobs that send them, and `manage.py rotate_encryption_key`. The alerts page is the dashboard's
(dashboard/alert_views.py).

May import: conversations (the threshold measures, the retention purge), knowledge, channels_app, teams, accounts and gateway.infra;
only the dashboard and the entry points are above it. The key rotation command lives here because alerts is the
highest app holding a sealed secret, so it may reach every module that seals one.
"""
