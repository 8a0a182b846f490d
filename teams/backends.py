"""An authentication backend that only refuses: a password sign-in for an address whose organisation requires SSO."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from teams.models import SsoConfig


class SsoRequiredBackend:
    """Placed before ModelBackend: raising PermissionDenied stops Django trying the password (documented behaviour)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = get_user_model().objects.filter(email__iexact=username).first()
        if user is None:
            return None
        domain = (user.email or "").rpartition("@")[2].lower()
        for config in SsoConfig.objects.filter(organisation__memberships__user=user, sso_required=True):
            if domain in config.allowed_domains:
                raise PermissionDenied("this organisation requires single sign-on")
        return None

    def get_user(self, user_id):
        return None
