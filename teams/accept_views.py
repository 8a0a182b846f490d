"""/invitations/<token>/: accepting an invitation by logging in or by signing up with the invited address."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import SignupForm
from accounts.services import EmailTaken, user_signup
from teams import current
from teams.invitations import InvitationInvalid, WrongAddress, invitation_accept, invitation_for_token


@never_cache
@sensitive_post_parameters("password1", "password2")
def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_for_token(token)
    except InvitationInvalid as exc:
        return render(request, "teams/invitation_invalid.html", {"reason": exc.message}, status=410)
    has_account = get_user_model().objects.filter(email__iexact=invitation.email).exists()
    form = None
    if not request.user.is_authenticated and not has_account:
        form = SignupForm(request.POST or None, initial={"email": invitation.email})
    if request.method == "POST":
        if not request.user.is_authenticated:
            if form is None or not form.is_valid():
                return _page(request, invitation, token, form, has_account)
            if form.cleaned_data["email"] != invitation.email:
                form.add_error("email", WrongAddress.message)
                return _page(request, invitation, token, form, has_account)
            try:
                user = user_signup(email=invitation.email, password=form.cleaned_data["password1"], address_proven=True)
            except EmailTaken:
                form.add_error("email", "An account with this email already exists. Log in instead.")
                return _page(request, invitation, token, form, has_account)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        try:
            invitation = invitation_accept(token=token, user=request.user, request=request)
        except (InvitationInvalid, WrongAddress) as exc:
            messages.error(request, exc.message)
            return _page(request, invitation, token, form, has_account, status=403)
        current.switch(request, invitation.organisation)
        messages.success(request, f"Welcome to “{invitation.organisation.name}”.")
        return redirect("dashboard:channel-list")
    return _page(request, invitation, token, form, has_account)


def _page(request, invitation, token, form, has_account, status=200) -> HttpResponse:
    here = reverse("invitation-accept", kwargs={"token": token})
    context = {
        "invitation": invitation,
        "form": form,
        "has_account": has_account,
        "login_url": f"{reverse('login')}?{urlencode({'next': here})}",
        "wrong_address": request.user.is_authenticated and (request.user.email or "").lower() != invitation.email,
    }
    return render(request, "teams/invitation_accept.html", context, status=status)
