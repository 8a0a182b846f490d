"""The one policy: who may do what to an organisation or a channel.

`can(user, action, target)` decides; every dashboard view states its action with `@requires(action)`,
which turns the decision into a response before the view runs: not a member of the target's
organisation → 404 (its existence is not revealed), a member whose role lacks the action → 403.
teams/tests/test_role_matrix.py walks every dashboard URL and fails for a view without it.

A channel is decided through its organisation. Teams sit below channels in the layers, so this module never
imports channels_app: channels_app registers how a URL's `public_id` becomes its channel (`channel_loader`,
in its AppConfig.ready), and a target that is not an organisation is one that belongs to one (`.organisation`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest

from teams import roles
from teams.current import current_organisation
from teams.models import Membership, Organisation

if TYPE_CHECKING:
    from channels_app.models import Channel

# public_id -> the channel with its organisation, or None: set by channels_app when it is ready.
_channel_loader: "Callable[[object], Channel | None] | None" = None


def channel_loader(load: "Callable[[object], Channel | None]") -> None:
    """Say how `@requires` loads the channel a URL's `public_id` names (channels_app's AppConfig.ready)."""
    global _channel_loader
    _channel_loader = load


def _channel(public_id) -> "Channel | None":
    if _channel_loader is None:
        raise ImproperlyConfigured("no channel loader: channels_app must be installed for channel pages")
    return _channel_loader(public_id)


def role_in(user, organisation: Organisation) -> str | None:
    """The user's role in the organisation, or None when they are not a member."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(organisation_id=organisation.pk, user_id=user.pk).values_list("role", flat=True).first()
    )


def organisation_of(target) -> Organisation:
    return target if isinstance(target, Organisation) else target.organisation


def can(user, action: str, target: "Organisation | Channel") -> bool:
    """Whether `user` may do `action` to `target` (an organisation, or a channel through its organisation)."""
    role = role_in(user, organisation_of(target))
    return role is not None and roles.allows(role, action)


def decide(request: HttpRequest, action: str, target: "Organisation | Channel") -> None:
    """Raise Http404 for a non-member, PermissionDenied (403) for a member without the right; else note the role."""
    organisation = organisation_of(target)
    role = role_in(request.user, organisation)
    if role is None:
        raise Http404()
    if not roles.allows(role, action):
        request.refusal = Refusal(organisation, role)  # the 403 page (templates/403.html) says why
        raise PermissionDenied()
    request.role = role


@dataclass(frozen=True)
class Refusal:
    """Where a member was refused, and their role there."""

    organisation: Organisation
    role: str


class Allowed:
    """What the request's role allows, for templates: `{% if allowed.key_view %}` asks for "key.view"."""

    def __init__(self, role: str | None):
        self.role = role

    def __getitem__(self, name: str) -> bool:
        return self.role is not None and roles.allows(self.role, name.replace("_", "."))


def requires(action: str):
    """Decorate a dashboard view: sign-in required, then the policy decides on the channel or the organisation.

    With a `public_id` URL argument the target is that channel (request.channel), with an `org_id` that
    organisation; with neither, the organisation the user is working in (request.organisation, teams/current.py).
    """
    if action not in roles.ACTIONS:
        raise ImproperlyConfigured(f"unknown policy action {action!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            request.policy_action = action
            if "public_id" in kwargs:
                channel = _channel(kwargs["public_id"])
                if channel is None:
                    raise Http404()
                decide(request, action, channel)
                request.channel = channel
                request.organisation = channel.organisation
            elif "org_id" in kwargs:
                org = Organisation.objects.filter(public_id=kwargs["org_id"]).first()
                if org is None:
                    raise Http404()
                decide(request, action, org)
                request.organisation = org
            else:
                request.organisation = current_organisation(request)
                decide(request, action, request.organisation)
            return view(request, *args, **kwargs)

        wrapper.policy_action = action
        return wrapper

    return decorator


def decided_channel(request: HttpRequest, public_id) -> "Channel":
    """The channel `@requires` decided on for this request; fails loudly for a view that skipped the policy."""
    channel = getattr(request, "channel", None)
    if getattr(request, "policy_action", None) is None or channel is None:
        raise ImproperlyConfigured("a dashboard view reached a channel without @teams.policy.requires")
    if str(channel.public_id) != str(public_id):
        raise Http404()
    return channel
