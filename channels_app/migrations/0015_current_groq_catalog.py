"""Today's catalog on an existing install: Groq's current models added, the old ids retired with their
replacements (channels_app/providers/catalog_seed.py, with the sources), and every channel still naming an old id moved to
its replacement with the owners' dashboard notice the retire service gives (the e-mail and webhook of a live
retirement are not sent from a migration)."""

from django.db import migrations
from django.db.models import Q

from channels_app.providers import catalog_seed
from channels_app.providers.catalog_notices import retirement_text

MANAGERS = ("owner", "admin")  # teams.roles.Role.OWNER / ADMIN: who runs an organisation's channels


def forwards(apps, schema_editor):
    catalog_seed.seed(apps)
    AiModel = apps.get_model("channels_app", "AiModel")
    Channel = apps.get_model("channels_app", "Channel")
    OwnerNotice = apps.get_model("channels_app", "OwnerNotice")
    Membership = apps.get_model("teams", "Membership")
    retired = {m.slug: m for m in AiModel.objects.filter(status="retired").select_related("replacement")}
    for channel in Channel.objects.filter(Q(model__in=retired) | Q(fallback_model__in=retired)):
        notices = []
        for field, role in (("model", "model"), ("fallback_model", "fallback model")):
            old = retired.get(getattr(channel, field))
            if old is None:
                continue
            new = old.replacement
            setattr(channel, field, new.slug)
            channel.max_reply_tokens = min(channel.max_reply_tokens, new.max_output)
            notices.append(retirement_text(
                model_name=old.name, model_slug=old.slug, channel_name=channel.name, replacement_name=new.name,
                replacement_slug=new.slug, role=role,
            ))
        if channel.fallback_model == channel.model:
            channel.fallback_model = ""
        channel.save(update_fields=["model", "fallback_model", "max_reply_tokens", "updated_at"])
        people = set(
            Membership.objects.filter(organisation_id=channel.organisation_id, role__in=MANAGERS)
            .values_list("user_id", flat=True)
        ) | {channel.owner_id}
        OwnerNotice.objects.bulk_create(
            [OwnerNotice(owner_id=user, channel=channel, text=text) for user in people for text in notices]
        )


class Migration(migrations.Migration):

    dependencies = [
        ("channels_app", "0014_sync_and_reasoning_effort"),
        ("teams", "0001_organisations_members_invitations_sso_audit"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
