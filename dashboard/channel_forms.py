from django import forms
from django.core.exceptions import ValidationError

from channels_app import origins
from channels_app.models import ApiKey, Channel
from channels_app.providers import catalog
from channels_app.services import ROTATION_GRACE_CHOICES

MAX_PER_MINUTE = 10_000
MAX_PER_DAY = 10_000_000


class ModelPicker(forms.RadioSelect):
    """Radio buttons rendered as cards with the catalog's facts (channels_app/templates/channels/widgets/)."""

    template_name = "channels/widgets/model_picker.html"

    models: list = []  # set by the form: what this owner may pick

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["catalog"] = self.models
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

    retention_days = forms.IntegerField(
        label="Keep conversations for (days)",
        required=False,  # left out (older clients of this form): the channel keeps what it has
        initial=Channel._meta.get_field("retention_days").default,
        min_value=1,
        max_value=3650,
        help_text="Conversations are deleted this many days after their last message (default 90).",
        error_messages={
            "required": "Set how many days to keep conversations (at least 1).",
            "invalid": "Enter a whole number.",
            "min_value": "Keep conversations for at least 1 day.",
            "max_value": "Keep conversations for at most 3,650 days.",
        },
    )

    class Meta:
        model = Channel
        fields = [
            "name", "model", "fallback_model", "max_reply_tokens", "system_prompt", "client_system_messages",
            "rate_limit_per_minute", "daily_limit", "retention_days", "is_active",
        ]
        labels = {
            "name": "Channel name",
            "system_prompt": "System prompt",
            "is_active": "Active",
            "fallback_model": "Fallback model",
            "max_reply_tokens": "Maximum reply length (tokens)",
            "client_system_messages": "Client system messages (OpenAI-compatible API)",
        }
        help_texts = {
            "name": "For you only, e.g. the site or app this key goes into.",
            "system_prompt": "Instructions sent to the model before every conversation (at most 8,000 characters).",
            "is_active": "When off, every request with this channel's key gets 403 “Site is inactive”.",
            "fallback_model": "Tried once when the provider fails on the main model. Optional.",
            "max_reply_tokens": "The longest reply the model may write, in tokens (about ¾ of a word each); at most "
            "what the model allows. Longer answers stop there. Smaller is cheaper and faster.",
            "client_system_messages": "System messages a client sends to /v1/chat/completions: allowed after your "
            "system prompt, or refused with 400. /api/chat never takes them.",
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
        # Only active models, plus (so a saved form stays valid) a deprecated one this channel already uses.
        chosen = (self.instance.model, self.instance.fallback_model) if self.instance.pk else ()
        pickable = catalog.pickable(chosen)
        choices = [(m.id, m.name if m.status == catalog.ACTIVE else f"{m.name} (retires {m.retires_on})") for m in pickable]
        self.fields["model"] = forms.ChoiceField(
            label="Model", choices=choices, widget=ModelPicker,
            error_messages={"invalid_choice": "Choose one of the models in the list.", "required": "Choose a model."},
        )
        self.fields["model"].widget.models = pickable
        self.fields["fallback_model"] = forms.ChoiceField(
            label="Fallback model", choices=[("", "None")] + choices, required=False,
            help_text=self._meta.help_texts["fallback_model"],
            error_messages={"invalid_choice": "Choose one of the models in the list."},
        )
        self.fields["max_reply_tokens"].required = False  # left out (older clients of this form): kept as it is
        self.fields["client_system_messages"].required = False

    def clean_max_reply_tokens(self) -> int:
        value = self.cleaned_data.get("max_reply_tokens")
        if value is None:
            return self.instance.max_reply_tokens if self.instance.pk else Channel._meta.get_field("max_reply_tokens").default
        return value

    def clean_client_system_messages(self) -> str:
        # A form posted without it (an older page, a script) keeps the channel's setting.
        return self.cleaned_data.get("client_system_messages") or self.instance.client_system_messages

    def clean_retention_days(self) -> int:
        days = self.cleaned_data.get("retention_days")
        if days is None:
            return self.instance.retention_days if self.instance.pk else Channel._meta.get_field("retention_days").default
        return days

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the channel a name.")
        return name

    def clean(self):
        cleaned = super().clean()
        model = catalog.find(cleaned.get("model") or "")
        longest = cleaned.get("max_reply_tokens")
        if model is not None and longest and longest > model.max_output:
            self.add_error("max_reply_tokens", f"{model.name} writes at most {model.max_output:,} tokens per reply.")
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


class ApiKeyForm(forms.ModelForm):
    """A named secret key: its name, and optionally its own per-minute limit and credit cap."""

    class Meta:
        model = ApiKey
        fields = ["name", "rate_limit_per_minute", "credit_cap"]
        labels = {"name": "Name", "rate_limit_per_minute": "Requests per minute", "credit_cap": "Credit cap"}
        help_texts = {
            "name": "Who uses it, e.g. “Shop backend” or “Staging”. Requests show it in the activity log.",
            "rate_limit_per_minute": "Optional: its own limit, within the channel's.",
            "credit_cap": "Optional: the most credits its chats may take, ever.",
        }
        widgets = {
            "rate_limit_per_minute": forms.NumberInput(attrs={"min": 1, "max": MAX_PER_MINUTE}),
            "credit_cap": forms.NumberInput(attrs={"min": 0}),
        }

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the key a name.")
        return name

    def clean_rate_limit_per_minute(self):
        value = self.cleaned_data.get("rate_limit_per_minute")
        if value is not None and value > MAX_PER_MINUTE:
            raise ValidationError(f"At most {MAX_PER_MINUTE:,} per minute.")
        return value


class AllowedOriginsForm(forms.Form):
    """The widget's allowed origins, one a line; every bad line gets its own message."""

    allowed_origins = forms.CharField(
        label="Allowed origins",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off", "placeholder": "https://www.example.com"}
        ),
        help_text=(
            f"One a line, at most {origins.MAX_ORIGINS}: scheme and host, and a port if it is not the default, "
            "e.g. https://www.example.com or http://localhost:8000. No paths, no wildcards."
        ),
    )

    def clean_allowed_origins(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines()]
        result, errors = [], []
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            try:
                origin = origins.normalise(line)
            except ValidationError as exc:
                errors.extend(f"Line {number}: {message}" for message in exc.messages)
                continue
            if origin not in result:
                result.append(origin)
        if len(result) > origins.MAX_ORIGINS:
            errors.append(f"At most {origins.MAX_ORIGINS} allowed origins (there are {len(result)}).")
        if errors:
            raise ValidationError(errors)
        return result


VISITOR_MAX_PER_MINUTE = 1_000
VISITOR_MAX_PER_DAY = 1_000_000


def _default(name: str) -> int:
    return Channel._meta.get_field(name).default


class WidgetSettingsForm(forms.ModelForm):
    """The widget's looks and its per-visitor limits (docs/widget.md)."""

    visitor_rate_limit_per_minute = _limit_field(
        "Requests per visitor per minute",
        VISITOR_MAX_PER_MINUTE,
        "request a minute",
        "Per session, chat and history counted separately.",
        initial=_default("visitor_rate_limit_per_minute"),
    )
    visitor_daily_limit = _limit_field(
        "Chats per visitor per day",
        VISITOR_MAX_PER_DAY,
        "chat a day",
        "Per session, per UTC day.",
        initial=_default("visitor_daily_limit"),
    )
    visitor_ip_daily_limit = _limit_field(
        "Chats per address per day",
        VISITOR_MAX_PER_DAY,
        "chat a day",
        "Per client address over all its sessions, per UTC day: the limit that bounds one browser.",
        initial=_default("visitor_ip_daily_limit"),
    )
    visitor_ip_rate_limit_per_minute = _limit_field(
        "Requests per address per minute",
        VISITOR_MAX_PER_MINUTE,
        "request a minute",
        "Per client address over all its sessions, chat and history counted separately.",
        initial=_default("visitor_ip_rate_limit_per_minute"),
    )
    widget_share_percent = forms.IntegerField(
        label="Widget share of the channel (%)",
        initial=_default("widget_share_percent"),
        min_value=1,
        max_value=100,
        help_text=(
            "All widget visitors together may use at most this share of the channel's requests per minute, "
            "chats per day and credits per UTC day; the rest stays your backend's."
        ),
        error_messages={
            "required": "Set a share from 1 to 100 percent.",
            "invalid": "Enter a whole number.",
            "min_value": "The share must be at least 1 percent.",
            "max_value": "The share can be at most 100 percent.",
        },
    )

    class Meta:
        model = Channel
        fields = [
            "widget_title", "widget_greeting", "widget_color",
            "visitor_rate_limit_per_minute", "visitor_daily_limit", "visitor_ip_daily_limit",
            "visitor_ip_rate_limit_per_minute", "widget_share_percent", "widget_pow_required",
        ]
        labels = {
            "widget_title": "Title", "widget_greeting": "Greeting", "widget_color": "Colour",
            "widget_pow_required": "Require proof of work",
        }
        help_texts = {
            "widget_title": "The panel's heading, at most 60 characters.",
            "widget_greeting": "The first message a visitor sees, at most 300 characters. Optional.",
            "widget_color": "The launcher's and the panel header's colour.",
            "widget_pow_required": (
                "Before each chat the visitor's browser solves a small puzzle (ALTCHA, about a second of work, "
                "no third party): scripts pay for every chat in CPU time."
            ),
        }
        widgets = {
            "widget_title": forms.TextInput(attrs={"autocomplete": "off", "data-preview-source": "title"}),
            "widget_greeting": forms.Textarea(attrs={"rows": 3, "data-preview-source": "greeting"}),
            "widget_color": forms.TextInput(attrs={"type": "color", "data-preview-source": "color"}),
        }
        error_messages = {
            "widget_title": {"required": "Give the widget a title.", "max_length": "Keep the title to 60 characters."},
            "widget_greeting": {"max_length": "Keep the greeting to 300 characters (it has %(show_value)d)."},
            "widget_color": {"required": "Choose a colour."},
        }

    def clean_widget_title(self) -> str:
        title = self.cleaned_data["widget_title"].strip()
        if not title:
            raise ValidationError("Give the widget a title.")
        return title

    def clean_widget_greeting(self) -> str:
        return self.cleaned_data["widget_greeting"].strip()

    def clean_widget_color(self) -> str:
        return self.cleaned_data["widget_color"].lower()


class CreditTopUpForm(forms.Form):
    """The admin's credit top-up action."""

    amount = forms.IntegerField(min_value=1, max_value=10_000_000, initial=1000, label="Credits to add to each channel")


class ChannelSettingsForm(ChannelForm):
    """The Settings tab: a channel's settings plus when to warn about credits."""

    credit_alert_threshold = forms.IntegerField(
        label="Warn me at this many credits",
        min_value=0,
        max_value=10_000_000,
        required=False,
        help_text="At or below it, the dashboard shows a warning; 0 warns only when the credits run out.",
        error_messages={"invalid": "Enter a whole number."},
    )

    class Meta(ChannelForm.Meta):
        fields = [*ChannelForm.Meta.fields, "credit_alert_threshold"]

    def clean_credit_alert_threshold(self) -> int:
        value = self.cleaned_data["credit_alert_threshold"]
        return self.instance.credit_alert_threshold if value is None else value  # left empty: unchanged


class CreditRequestForm(forms.Form):
    amount = forms.IntegerField(
        label="Credits to ask for",
        min_value=1,
        max_value=1_000_000,
        initial=500,
        error_messages={
            "required": "Enter how many credits you need.",
            "invalid": "Enter a whole number.",
            "min_value": "Ask for at least 1 credit.",
            "max_value": "Ask for at most 1,000,000 credits at a time.",
        },
    )
    note = forms.CharField(
        label="Note for staff (optional)", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


ORGANISATION = "organisation"  # the credit move form's value for the organisation's own balance


class CreditMoveForm(forms.Form):
    """Move credits between the organisation and its channels: `source` and `destination` are ORGANISATION
    or a channel's public id, among the organisation's own (the service checks it again)."""

    amount = forms.IntegerField(min_value=1, label="Credits")
    source = forms.ChoiceField(label="From")
    destination = forms.ChoiceField(label="To")

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels = {str(c.public_id): c for c in organisation.channels.order_by("name", "id")}
        choices = [(ORGANISATION, f"{organisation.name} (organisation): {organisation.credits:,}")] + [
            (key, f"{c.name}: {c.credits:,}") for key, c in self.channels.items()
        ]
        self.fields["source"].choices = choices
        self.fields["destination"].choices = choices
        self.organisation = organisation

    def place(self, value: str):
        return self.organisation if value == ORGANISATION else self.channels[value]

    def clean(self):
        data = super().clean()
        if data.get("source") and data.get("source") == data.get("destination"):
            raise forms.ValidationError("Choose two different places to move credits between.")
        return data
