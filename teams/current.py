"""The organisation a signed-in user is working in: chosen with the dashboard's switcher, kept in the session."""

from django.http import HttpRequest

from teams import services
from teams.models import Organisation

SESSION_KEY = "organisation"


def organisations_of(user) -> list[Organisation]:
    """Every organisation the user belongs to, personal first, then by name."""
    return list(Organisation.objects.filter(memberships__user=user).order_by("-personal_for", "name", "id").distinct())


def current_organisation(request: HttpRequest) -> Organisation:
    """The session's organisation while the user is still a member; otherwise their personal one (made if missing)."""
    chosen = request.session.get(SESSION_KEY)
    if chosen:
        org = Organisation.objects.filter(public_id=chosen, memberships__user=request.user).first()
        if org is not None:
            return org
    org = Organisation.objects.filter(memberships__user=request.user).order_by("-personal_for", "id").first()
    return org or services.personal_organisation(request.user)


def switch(request: HttpRequest, organisation: Organisation) -> None:
    request.session[SESSION_KEY] = str(organisation.public_id)
