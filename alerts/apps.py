from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts, webhooks and background jobs"
    default_auto_field = "django.db.models.BigAutoField"
