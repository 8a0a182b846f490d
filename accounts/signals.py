"""What accounts tell the apps above them, which connect to it in their AppConfig.ready.

Accounts sit at the bottom of the layers and import no app; an app that acts on an account's change
(channels_app grants the starting credits on a confirmation) listens here instead of being called.
"""

from django.dispatch import Signal

# Sent inside the confirming transaction with user=, so what a receiver writes commits or rolls back with it.
# Sent on every confirmation, a repeated one too: receivers are idempotent.
email_confirmed = Signal()
