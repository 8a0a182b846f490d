from django import forms
from django.conf import settings

from alerts.models import AlertSettings
from gateway.infra import outbound


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
        try:
            outbound.check_url(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
        except outbound.Refused as exc:
            raise forms.ValidationError(str(exc).replace("The address", "The webhook's address")) from None
        return url
