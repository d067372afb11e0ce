from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = "Sync pipeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from vault.redaction import secret_path_register

        # An ingest URL's last segment is its token: Django logs every refused message
        # ("Bad Request: /hooks/<token>"); logs show /hooks/[REDACTED] (found by the secrets sweep).
        secret_path_register("/hooks/")
