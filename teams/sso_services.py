"""Writes to an organisation's SSO settings, audited without the secret."""

from django.db import transaction

from teams import audit, sso_domains, sso_secret
from teams.models import Organisation, SsoConfig

SHOWN = ("issuer", "client_id", "default_role", "sso_required")


class SsoSaveRefused(Exception):
    """Nothing was saved; `message` is for the form's `field`."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _shown(config: SsoConfig | None) -> dict:
    return {name: getattr(config, name) for name in SHOWN} if config else {}


@transaction.atomic
def sso_save(*, organisation: Organisation, actor, request=None, client_secret: str = "",
             domains: list[str] | None = None, **fields) -> SsoConfig:
    """Create or change the organisation's SSO settings and (unless `domains` is None) its claimed domains, new ones
    unverified; an empty `client_secret` keeps the stored one. SsoSaveRefused, and nothing saved, for a domain
    verified by another organisation."""
    if domains is not None:
        try:
            sso_domains.domains_set(organisation=organisation, domains=domains, actor=actor, request=request)
        except sso_domains.DomainTaken as exc:
            raise SsoSaveRefused("domains", str(exc)) from None
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
