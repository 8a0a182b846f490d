"""Owner accounts: sign-up, e-mail confirmation, log-in and re-authentication, sessions stored by digest, the
client address behind proxies, and the starting-credit grant's record (the rule is channels_app/starting_credits.py).

The bottom app of the layers: it imports only gateway.infra. What the apps above act on is sent as a signal
(signals.py: `email_confirmed`), which they connect in their AppConfig.ready.
"""
