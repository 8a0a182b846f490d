"""Give every owner of a channel a personal organisation, as its owner, holding all their channels.

Nothing is lost: each channel keeps its row, keys, conversations and owner; it only gains an organisation.
Run again (after a migrate back), it finds the same personal organisations instead of making new ones.
"""

from django.db import migrations

NAME_MAX = 100


def personal_name(user) -> str:
    return (user.email or user.username)[:NAME_MAX]


def forward(apps, schema_editor):
    Channel = apps.get_model("channels_app", "Channel")
    Organisation = apps.get_model("teams", "Organisation")
    Membership = apps.get_model("teams", "Membership")
    User = apps.get_model("auth", "User")
    owner_ids = Channel.objects.filter(organisation__isnull=True).values_list("owner_id", flat=True).distinct()
    for user in User.objects.filter(pk__in=list(owner_ids)).order_by("pk"):
        org = Organisation.objects.filter(personal_for=user).order_by("pk").first()
        if org is None:
            org = Organisation.objects.create(name=personal_name(user), personal_for=user)
        Membership.objects.get_or_create(organisation=org, user=user, defaults={"role": "owner"})
        Channel.objects.filter(owner=user, organisation__isnull=True).update(organisation=org)


def backward(apps, schema_editor):
    apps.get_model("channels_app", "Channel").objects.update(organisation=None)


class Migration(migrations.Migration):

    dependencies = [
        ("channels_app", "0009_channel_organisation"),
        ("teams", "0001_organisations_members_invitations_sso_audit"),
    ]

    operations = [migrations.RunPython(forward, backward)]
