"""What the embeddable widget reads through the API: the CORS preflight's check and its settings."""

from channels_app import keys
from channels_app.authentication import PresentedKey
from channels_app.selectors import publishable_key_authenticate
from gateway.db import db_phase
from gateway.errors import PublishableKeyRequired


@db_phase
def origin_allowed(*, raw: str, origin: str) -> bool:
    """Whether `raw` is a usable publishable key whose channel allows `origin` (a preflight's question)."""
    if not keys.is_well_formed_publishable(raw):
        return False
    publishable = publishable_key_authenticate(raw)
    return publishable is not None and publishable.allows_origin(origin)


@db_phase
def config_get(*, credential: PresentedKey) -> dict:
    """The channel's widget settings, for its publishable key from an allowed origin."""
    if not credential.publishable:
        raise PublishableKeyRequired()
    return credential.verify_current().channel.widget_settings()
