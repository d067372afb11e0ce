from django.apps import AppConfig


class SyncHistoryConfig(AppConfig):
    name = "sync_history"
    verbose_name = "Sync history"
    default_auto_field = "django.db.models.BigAutoField"
