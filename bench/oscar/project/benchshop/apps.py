from django.apps import AppConfig


class BenchshopConfig(AppConfig):
    name = "benchshop"
    default_auto_field = "django.db.models.AutoField"
