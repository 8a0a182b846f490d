"""The forms of an organisation's pages: a new organisation, an invitation, a member's role, the audit log's filter,
the single sign-on settings."""

from django import forms
from django.conf import settings

from gateway.infra import outbound
from teams import sso_domains
from teams.roles import Role


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=100, label="Organisation name")


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=48)
    actor = forms.CharField(required=False, max_length=254, label="Who (e-mail)")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _domains(text: str) -> list[str]:
    return sorted({d.strip() for d in text.replace("\n", ",").split(",") if d.strip()})


class SsoForm(forms.Form):
    issuer = forms.URLField(max_length=200, assume_scheme="https", help_text="The provider's issuer URL; its /.well-known/openid-configuration is read from it.")
    client_id = forms.CharField(max_length=200, label="Client ID")
    client_secret = forms.CharField(
        max_length=500, required=False, strip=False, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current one.",
    )
    domains = forms.CharField(
        max_length=1000, label="E-mail domains",
        help_text="Comma-separated, e.g. example.com, example.org. Each signs new people in only once verified.",
    )
    default_role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST, label="Role of new members")
    sso_required = forms.BooleanField(required=False, label="Members with these verified domains must sign in with SSO")

    def __init__(self, *args, has_secret: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret

    def clean_domains(self) -> list[str]:
        names = _domains(self.cleaned_data["domains"])
        if not names:
            raise forms.ValidationError("Give at least one domain.")
        try:
            return sorted({sso_domains.normalise(name) for name in names})
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_issuer(self) -> str:
        issuer = self.cleaned_data["issuer"]
        try:
            outbound.check_url(issuer, allow_private=settings.SSO_ALLOW_PRIVATE_ISSUERS)
        except outbound.Refused as exc:
            raise forms.ValidationError(str(exc).replace("The address", "The issuer's address")) from None
        return issuer

    def clean_client_secret(self) -> str:
        secret = self.cleaned_data["client_secret"]
        if not secret and not self.has_secret:
            raise forms.ValidationError("Give the client secret.")
        return secret
