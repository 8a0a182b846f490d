from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import reauth
        from gateway.infra import sqlite_files

        user_logged_in.connect(reauth.on_login, dispatch_uid="accounts.reauth.on_login")
        # The SQLite file holds the sessions (and everything else): owner-only, like .env.
        sqlite_files.connect()
