from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge: the sources a channel answers from"
    default_auto_field = "django.db.models.BigAutoField"
