"""gunicorn's logger, with the vault's redaction on its handlers.

The access log writes every request line, and an ingest URL's path is its
credential (``/hooks/<token>``, registered by the pipeline with
``vault.redaction.secret_path_register``): without the filter, every message a
sender posts would leave its token in the log. Used by the Procfile and the
container's entrypoint (``--logger-class nexiom.gunicorn_logging.RedactingLogger``).
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from vault.redaction import handler_filter_add


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler_filter_add(handler)
