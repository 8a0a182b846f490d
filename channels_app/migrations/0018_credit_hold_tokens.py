
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels_app', '0017_named_keys'),
    ]

    operations = [
        migrations.CreateModel(
            name='CreditHold',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('held_from', models.CharField(max_length=12)),
                ('created_at', models.DateTimeField()),
                ('channel', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels_app.channel')),
                ('key', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels_app.apikey')),
            ],
        ),
    ]
