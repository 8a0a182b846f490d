"""An organisation with a channel, a key, a widget key, a conversation, a second member and an open invitation."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from channels_app.services import channel_create, publishable_key_issue
from conversations.models import Message, Session
from teams import services
from teams.invitations import invitation_create
from teams.models import Invitation, Membership, Organisation, SsoDomain
from teams.sso_services import sso_save


@dataclass
class World:
    org: Organisation
    channel: object
    key: object
    plaintext: str
    widget_key: object
    session: Session
    colleague: Membership
    invitation: Invitation


def make_user(email: str):
    return get_user_model().objects.create_user(email, email, "pw-member-123!")


def make_world(owner, name: str) -> World:
    org = services.organisation_create(user=owner, name=name)
    channel, issued = channel_create(owner=owner, organisation=org, name=f"{name} site", credits=50)
    now = timezone.now()
    session = Session.objects.create(channel=channel, session_id="visitor-1", started_at=now, expires_at=now + dt.timedelta(days=1))
    Message.objects.create(session=session, role=Message.Role.USER, content="Where is my order?", created_at=now)
    Message.objects.create(session=session, role=Message.Role.ASSISTANT, content="On its way.", created_at=now)
    colleague = services.membership_add(
        organisation=org, user=make_user(f"colleague@{name.lower()}.example"), role="developer", actor=owner
    )
    invitation, _sent = invitation_create(
        organisation=org, email=f"invited@{name.lower()}.example", role="analyst", actor=owner, link_for=lambda t: t
    )
    sso_save(organisation=org, actor=owner, client_secret="sso-secret", issuer=f"https://login.{name.lower()}.example/",
             client_id="gw", domains=[f"{name.lower()}.example"], default_role="analyst", sso_required=False)
    SsoDomain.objects.filter(organisation=org).update(verified_at=now, verified_by=SsoDomain.Method.COMMAND)
    return World(org, channel, issued.api_key, issued.plaintext, publishable_key_issue(channel=channel), session, colleague, invitation)


def join(world: World, user, role: str) -> Membership:
    return services.membership_add(organisation=world.org, user=user, role=role, actor=world.org.memberships.first().user)
