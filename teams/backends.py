"""An authentication backend that only refuses: a password sign-in for an address on a verified domain of an
organisation the person belongs to that requires SSO."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from teams.models import SsoDomain


class SsoRequiredBackend:
    """Placed before ModelBackend: raising PermissionDenied stops Django trying the password (documented behaviour)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = get_user_model().objects.filter(email__iexact=username).first()
        if user is None:
            return None
        domain = (user.email or "").rpartition("@")[2].lower()
        required = SsoDomain.objects.filter(
            domain=domain, verified_at__isnull=False, organisation__memberships__user=user, organisation__sso__sso_required=True
        )
        if required.exists():
            raise PermissionDenied("this organisation requires single sign-on")
        return None

    def get_user(self, user_id):
        return None
