"""Writes to an organisation's SSO settings, audited without the secret."""

from django.db import transaction

from teams import audit, sso_secret
from teams.models import Organisation, SsoConfig

SHOWN = ("issuer", "client_id", "allowed_domains", "default_role", "sso_required")


def _shown(config: SsoConfig | None) -> dict:
    return {name: getattr(config, name) for name in SHOWN} if config else {}


@transaction.atomic
def sso_save(*, organisation: Organisation, actor, request=None, client_secret: str = "", **fields) -> SsoConfig:
    """Create or change the organisation's SSO settings; an empty `client_secret` keeps the stored one."""
    config = SsoConfig.objects.select_for_update().filter(organisation=organisation).first()
    before = _shown(config)
    if config is None:
        config = SsoConfig(organisation=organisation)
    for name, value in fields.items():
        setattr(config, name, value)
    changes = audit.diff(before, _shown(config))
    if client_secret:
        config.client_secret_ciphertext = sso_secret.encrypt(client_secret, organisation.public_id)
        changes["client_secret"] = ["…", "changed"]
    config.save()
    if changes:
        audit.record(organisation=organisation, actor=actor, action="sso.update", request=request, target="SSO settings", changes=changes)
    return config
