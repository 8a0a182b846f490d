"""Organisation pages: the switcher, members and invitations, leaving. Each decided by teams.policy."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.team_forms import InviteForm, OrganisationForm, RoleForm
from teams import current, selectors, services
from teams.invitations import AlreadyInvited, InvitationInvalid, invitation_create, invitation_resend, invitation_revoke
from teams.policy import requires


def _members_url(org) -> str:
    return reverse("teams:members", kwargs={"org_id": org.public_id})


def _link_for(request: HttpRequest):
    return lambda token: request.build_absolute_uri(reverse("invitation-accept", kwargs={"token": token}))


@requires("org.view")
@require_POST
def org_switch(request: HttpRequest, org_id) -> HttpResponse:
    current.switch(request, request.organisation)
    return redirect("dashboard:channel-list")


@requires("org.create")
@require_http_methods(["GET", "POST"])
def org_new(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = services.organisation_create(user=request.user, name=form.cleaned_data["name"], request=request)
        current.switch(request, org)
        messages.success(request, f"“{org.name}” is ready. Invite people from its members page.")
        return redirect(_members_url(org))
    return render(request, "teams/org_new.html", {"form": form})


@requires("org.rename")
@require_http_methods(["GET", "POST"])
def org_settings(request: HttpRequest, org_id) -> HttpResponse:
    org = request.organisation
    form = OrganisationForm(request.POST or None, initial={"name": org.name})
    if request.method == "POST" and form.is_valid():
        if services.organisation_rename(organisation=org, name=form.cleaned_data["name"], actor=request.user, request=request):
            messages.success(request, f"The organisation is now called “{org.name}”.")
        return redirect(reverse("teams:settings", kwargs={"org_id": org.public_id}))
    return render(request, "teams/settings.html", {"org": org, "form": form}, status=400 if form.errors else 200)


@requires("org.members.view")
def members(request: HttpRequest, org_id) -> HttpResponse:
    org = request.organisation
    context = {
        "org": org,
        "members": selectors.members(org),
        "invitations": selectors.open_invitations(org),
        "invite_form": InviteForm(),
        "role_form": RoleForm(),
    }
    return render(request, "teams/members.html", context)


@requires("org.members")
@require_POST
def member_role(request: HttpRequest, org_id, member_id) -> HttpResponse:
    membership = selectors.get_membership(request.organisation, member_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set_role(membership=membership, role=form.cleaned_data["role"], actor=request.user, request=request)
        except services.LastOwner as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect(_members_url(request.organisation))


@requires("org.members")
@require_POST
def member_remove(request: HttpRequest, org_id, member_id) -> HttpResponse:
    membership = selectors.get_membership(request.organisation, member_id)
    try:
        services.membership_remove(membership=membership, actor=request.user, request=request)
    except services.LastOwner as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.user.email} is no longer a member.")
    return redirect(_members_url(request.organisation))


@requires("org.leave")
@require_POST
def leave(request: HttpRequest, org_id) -> HttpResponse:
    membership = request.organisation.memberships.get(user=request.user)
    try:
        services.membership_remove(membership=membership, actor=request.user, request=request)
    except services.LastOwner as exc:
        messages.error(request, exc.message)
        return redirect(_members_url(request.organisation))
    messages.success(request, f"You left “{request.organisation.name}”.")
    return redirect("dashboard:channel-list")


@requires("org.members")
@require_POST
def invite(request: HttpRequest, org_id) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_members_url(request.organisation))
    try:
        invitation, sent = invitation_create(
            organisation=request.organisation, email=form.cleaned_data["email"], role=form.cleaned_data["role"],
            actor=request.user, link_for=_link_for(request), request=request,
        )
    except AlreadyInvited as exc:
        messages.error(request, exc.message)
    else:
        if sent:
            messages.success(request, f"Invitation sent to {invitation.email}.")
        else:
            messages.warning(request, f"The invitation to {invitation.email} could not be mailed just now: resend it.")
    return redirect(_members_url(request.organisation))


@requires("org.members")
@require_POST
def invitation_resend_view(request: HttpRequest, org_id, invitation_id) -> HttpResponse:
    invitation = selectors.get_invitation(request.organisation, invitation_id)
    try:
        sent = invitation_resend(invitation=invitation, actor=request.user, link_for=_link_for(request), request=request)
    except InvitationInvalid as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if sent else messages.warning)(
            request, f"Sent a new link to {invitation.email}." if sent else "The mail could not be sent just now."
        )
    return redirect(_members_url(request.organisation))


@requires("org.members")
@require_POST
def invitation_revoke_view(request: HttpRequest, org_id, invitation_id) -> HttpResponse:
    invitation = selectors.get_invitation(request.organisation, invitation_id)
    try:
        invitation_revoke(invitation=invitation, actor=request.user, request=request)
    except InvitationInvalid as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return redirect(_members_url(request.organisation))
