"""The organisation a signed-in user is working in: chosen with the dashboard's switcher, kept in the session."""

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest

from teams import services
from teams.models import Organisation

SESSION_KEY = "organisation"


def _own_first(user):
    """The user's own personal organisation before the others (a plain ordering on personal_for would put
    NULLs first on PostgreSQL and last on SQLite, and someone else's personal organisation among them)."""
    return Case(When(personal_for=user, then=Value(0)), default=Value(1), output_field=IntegerField())


def organisations_of(user) -> list[Organisation]:
    """Every organisation the user belongs to, their personal one first, then by name."""
    return list(Organisation.objects.filter(memberships__user=user).order_by(_own_first(user), "name", "id").distinct())


def current_organisation(request: HttpRequest) -> Organisation:
    """The session's organisation while the user is still a member; otherwise their personal one (made if missing)."""
    chosen = request.session.get(SESSION_KEY)
    if chosen:
        org = Organisation.objects.filter(public_id=chosen, memberships__user=request.user).first()
        if org is not None:
            return org
    org = Organisation.objects.filter(memberships__user=request.user).order_by(_own_first(request.user), "id").first()
    return org or services.personal_organisation(request.user)


def switch(request: HttpRequest, organisation: Organisation) -> None:
    request.session[SESSION_KEY] = str(organisation.public_id)
