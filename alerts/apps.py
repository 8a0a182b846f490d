from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts, webhooks and background jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alerts import services
        from channels_app import events
        from channels_app.models import Channel

        # Channels emit; alerts, above them in the layers, records and delivers (channels_app/events.py).
        events.emitted.connect(services.on_channel_event, sender=Channel, dispatch_uid="alerts.on_channel_event")
