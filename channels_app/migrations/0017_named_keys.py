import django.core.validators
from django.db import migrations, models


def name_existing_keys(apps, schema_editor):
    # Every key made before keys had names is its channel's "Default" key; it keeps working as it was.
    apps.get_model("channels_app", "ApiKey").objects.filter(name="").update(name="Default")


class Migration(migrations.Migration):
    dependencies = [("channels_app", "0016_channel_draws_from_organisation")]

    operations = [
        migrations.AddField(
            model_name="apikey", name="name", field=models.CharField(default="", max_length=60), preserve_default=False,
        ),
        migrations.RunPython(name_existing_keys, migrations.RunPython.noop),
        migrations.AlterField(model_name="apikey", name="name", field=models.CharField(default="Default", max_length=60)),
        migrations.AddField(
            model_name="apikey", name="rate_limit_per_minute",
            field=models.PositiveIntegerField(
                blank=True, help_text="Empty: only the channel's limit applies.", null=True,
                validators=[django.core.validators.MinValueValidator(1)], verbose_name="requests per minute",
            ),
        ),
        migrations.AddField(
            model_name="apikey", name="credit_cap",
            field=models.PositiveIntegerField(
                blank=True, help_text="Empty: no cap of its own; the channel's credits still apply.", null=True,
                validators=[django.core.validators.MaxValueValidator(1000000000)],
            ),
        ),
        migrations.AddField(
            model_name="apikey", name="credits_spent", field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AlterField(
            model_name="keyreveal", name="action",
            field=models.CharField(
                choices=[("reveal", "Revealed"), ("rotate", "Issued by rotation"), ("create", "Created")], default="reveal",
                max_length=16,
            ),
        ),
    ]
