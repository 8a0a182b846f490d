import ipaddress
import socket
from urllib.parse import urlsplit

from django import forms
from django.conf import settings

from alerts.models import AlertSettings


def is_public_address(host: str) -> bool:
    """Whether every address `host` resolves to is public (a webhook must not reach the server's own network)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos)


class AlertSettingsForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label="Webhook URL", required=False, max_length=500, assume_scheme="https",
        help_text="We POST each alert here as signed JSON. Leave empty for e-mail only.",
    )

    class Meta:
        model = AlertSettings
        fields = ["daily_limit_pct", "error_rate_pct", "email_enabled", "webhook_url"]
        labels = {
            "daily_limit_pct": "Daily limit used (%)",
            "error_rate_pct": "Error rate (%)",
            "email_enabled": "E-mail me alerts",
        }
        help_texts = {
            "daily_limit_pct": "Alert when today's chats reach this share of the daily limit. 0 turns it off.",
            "error_rate_pct": "Alert when this share of the last hour's chats failed upstream (at least 10 chats). 0 turns it off.",
        }

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise forms.ValidationError("Enter an http or https URL.")
        if not settings.WEBHOOK_ALLOW_PRIVATE and not is_public_address(parts.hostname):
            raise forms.ValidationError("The webhook's address must be public (not this server's own network).")
        return url
