from django import forms
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm


# Top-level names reserved by RFC 2606 / RFC 6761: mail to them can never be delivered.
RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost"})
UNDELIVERABLE = "This address cannot receive e-mail (its domain is reserved). Use an address you can read."


def deliverable_domain(domain: str) -> bool:
    labels = domain.rstrip(".").split(".")
    # A bare name ("localhost", "intranet") is not an internet mail domain either.
    return len(labels) >= 2 and labels[-1] not in RESERVED_TLDS


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password and not all digits.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if not deliverable_domain(email.rpartition("@")[2]):
            raise forms.ValidationError(UNDELIVERABLE)
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists. Log in instead.")
        return email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1 and cleaned.get("email"):
            user = get_user_model()(username=cleaned["email"], email=cleaned["email"])
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, labelled for email addresses, which are the usernames here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.update({"autocomplete": "email"})

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class ConfirmPasswordForm(forms.Form):
    """Re-enter the password before a sensitive action (revealing or rotating a key)."""

    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True})
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through authenticate(), so django-axes counts and throttles wrong guesses here too.
        checked = authenticate(self.request, username=user.get_username(), password=password)
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError("That password is not correct.")
        return password
