from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "vault"
    verbose_name = "Credential vault"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from nexiom.celery import app as celery_app
        from vault import celery_guard
        from vault.keyring import keyring_get

        # Start-up check: with DJANGO_DEBUG off a missing, short or malformed
        # NEXIOM_VAULT_KEYS raises VaultMisconfigured (an ImproperlyConfigured)
        # here, before any web or worker process serves. In dev it creates or
        # loads the local key file.
        keyring_get()
        celery_guard.install(app=celery_app)
