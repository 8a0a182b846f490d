"""SSO e-mail domains become claims that count only once verified, and SSO sign-in goes through stored identities.

Each organisation's allowed_domains become unverified SsoDomain rows (an owner verifies them afterwards). Accounts
this organisation's SSO made earlier (no usable password, made a member "via sso", not staff) get an identity row
without a subject, which the first sign-in with their address on a verified domain completes.
"""

import secrets

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _idna(text):
    try:
        return text.strip().lstrip("@").rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def forward(apps, schema_editor):
    SsoConfig = apps.get_model("teams", "SsoConfig")
    SsoDomain = apps.get_model("teams", "SsoDomain")
    SsoIdentity = apps.get_model("teams", "SsoIdentity")
    Membership = apps.get_model("teams", "Membership")
    AuditEntry = apps.get_model("teams", "AuditEntry")
    for config in SsoConfig.objects.all():
        for name in sorted({_idna(d) for d in config.allowed_domains or []} - {""}):
            SsoDomain.objects.get_or_create(organisation_id=config.organisation_id, domain=name,
                                            defaults={"verification_token": secrets.token_hex(16)})
        for membership in Membership.objects.filter(organisation_id=config.organisation_id).select_related("user"):
            user = membership.user
            if user.is_staff or user.is_superuser or not user.password.startswith("!"):
                continue
            via_sso = AuditEntry.objects.filter(organisation_id=config.organisation_id, action="member.add",
                                                target=f"member {user.email}", changes__via=[None, "sso"])
            if via_sso.exists():
                SsoIdentity.objects.get_or_create(organisation_id=config.organisation_id, issuer=config.issuer,
                                                  user_id=user.pk, defaults={"subject": "", "origin": "created"})


def backward(apps, schema_editor):
    SsoConfig = apps.get_model("teams", "SsoConfig")
    SsoDomain = apps.get_model("teams", "SsoDomain")
    for config in SsoConfig.objects.all():
        config.allowed_domains = list(SsoDomain.objects.filter(organisation_id=config.organisation_id)
                                      .values_list("domain", flat=True))
        config.save(update_fields=["allowed_domains"])


class Migration(migrations.Migration):

    dependencies = [
        ('teams', '0001_organisations_members_invitations_sso_audit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SsoDomain',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('domain', models.CharField(help_text='In IDNA form (xn--…), lower case', max_length=253)),
                ('verification_token', models.CharField(editable=False, max_length=64)),
                ('verified_at', models.DateTimeField(blank=True, null=True)),
                ('verified_by', models.CharField(blank=True, choices=[('dns', 'DNS TXT record'), ('staff', 'Staff (admin)'), ('command', 'Command line')], max_length=8)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sso_domains', to='teams.organisation')),
            ],
            options={
                'ordering': ['domain', 'id'],
                'constraints': [models.UniqueConstraint(fields=('organisation', 'domain'), name='ssodomain_once_per_org'), models.UniqueConstraint(condition=models.Q(('verified_at__isnull', False)), fields=('domain',), name='ssodomain_verified_once')],
            },
        ),
        migrations.CreateModel(
            name='SsoIdentity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('issuer', models.CharField(max_length=200)),
                ('subject', models.CharField(max_length=255)),
                ('origin', models.CharField(choices=[('created', 'Account made by SSO'), ('linked', 'Linked by the member')], max_length=8)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sso_identities', to='teams.organisation')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sso_identities', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'SSO identities',
                'constraints': [models.UniqueConstraint(fields=('organisation', 'issuer', 'subject'), name='ssoidentity_subject_once', condition=~models.Q(subject='')), models.UniqueConstraint(fields=('organisation', 'issuer', 'user'), name='ssoidentity_user_once')],
            },
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField(
            model_name='ssoconfig',
            name='allowed_domains',
        ),
    ]
