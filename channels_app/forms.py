from django import forms

from channels_app import catalog
from channels_app.models import Channel
from channels_app.services import ROTATION_GRACE_CHOICES

MAX_PER_MINUTE = 10_000
MAX_PER_DAY = 10_000_000


class ModelPicker(forms.RadioSelect):
    """Radio buttons rendered as cards with the catalog's facts (channels_app/templates/channels/widgets/)."""

    template_name = "channels/widgets/model_picker.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["catalog"] = catalog.MODELS
        return context


def _limit_field(label: str, ceiling: int, unit: str, help_text: str, initial: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        initial=initial,
        min_value=1,
        max_value=ceiling,
        help_text=help_text,
        error_messages={
            "required": f"Set a limit of at least 1 {unit}.",
            "invalid": "Enter a whole number.",
            "min_value": f"The limit must be at least 1 {unit}.",
            "max_value": f"The limit can be at most {ceiling:,} {unit}.",
        },
    )


class ChannelForm(forms.ModelForm):
    rate_limit_per_minute = _limit_field(
        "Requests per minute",
        MAX_PER_MINUTE,
        "request a minute",
        "Requests over this in one minute get 429 “Rate limit exceeded”.",
        initial=Channel._meta.get_field("rate_limit_per_minute").default,
    )
    daily_limit = _limit_field(
        "Chats per day",
        MAX_PER_DAY,
        "chat a day",
        "Answered chats per UTC day; more get 429 “Daily limit exceeded”.",
        initial=Channel._meta.get_field("daily_limit").default,
    )

    class Meta:
        model = Channel
        fields = ["name", "model", "fallback_model", "system_prompt", "rate_limit_per_minute", "daily_limit", "is_active"]
        labels = {
            "name": "Channel name",
            "system_prompt": "System prompt",
            "is_active": "Active",
            "fallback_model": "Fallback model",
        }
        help_texts = {
            "name": "For you only, e.g. the site or app this key goes into.",
            "system_prompt": "Instructions sent to the model before every conversation (at most 8,000 characters).",
            "is_active": "When off, every request with this channel's key gets 403 “Site is inactive”.",
            "fallback_model": "Tried once when the provider fails on the main model. Optional.",
        }
        widgets = {
            "model": ModelPicker,
            "system_prompt": forms.Textarea(attrs={"rows": 5}),
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
        }
        error_messages = {
            "name": {"required": "Give the channel a name.", "max_length": "Keep the name to 100 characters."},
            "model": {"invalid_choice": "Choose one of the models in the list."},
            "system_prompt": {"max_length": "Keep the system prompt to 8,000 characters (it has %(show_value)d)."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = catalog.CHOICES
        self.fields["fallback_model"].choices = [("", "None")] + catalog.CHOICES

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the channel a name.")
        return name

    def clean(self):
        cleaned = super().clean()
        per_minute, per_day = cleaned.get("rate_limit_per_minute"), cleaned.get("daily_limit")
        if per_minute and per_day and per_minute > per_day:
            self.add_error("rate_limit_per_minute", "The per-minute limit cannot be higher than the daily limit.")
        return cleaned


class RotateKeyForm(forms.Form):
    grace = forms.ChoiceField(
        label="The current key keeps working for",
        choices=[("none", "No grace: stop it now"), ("1h", "1 hour"), ("24h", "24 hours")],
        initial="1h",
        error_messages={"invalid_choice": "Choose how long the current key keeps working: none, 1 hour or 24 hours."},
    )

    @property
    def grace_period(self):
        return ROTATION_GRACE_CHOICES[self.cleaned_data["grace"]]


class CreditTopUpForm(forms.Form):
    """The admin's credit top-up action."""

    amount = forms.IntegerField(min_value=1, max_value=10_000_000, initial=1000, label="Credits to add to each channel")
