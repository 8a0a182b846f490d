from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.signals import email_confirmed
        from channels_app import signals  # noqa: F401  (connects the key cache's invalidation)
        from channels_app import selectors, starting_credits
        from teams import policy

        email_confirmed.connect(starting_credits.on_email_confirmed, dispatch_uid="channels_app.starting_credits")
        policy.channel_loader(selectors.channel_for_policy)
