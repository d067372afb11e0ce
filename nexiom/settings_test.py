"""Settings for the pytest suite: the real PostgreSQL and Redis, kept apart.

The suite uses Redis database 15 (or NEXIOM_TEST_REDIS_URL) so that a
running `make up` worker never consumes the tests' tasks.
"""

from nexiom.env import env_float, env_str
from nexiom.settings import *  # noqa: F403
from nexiom.settings import CACHES

REDIS_URL = env_str("NEXIOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES["default"]["LOCATION"] = REDIS_URL
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Drains linger less than in production: a test flow crosses four layers one record at a time.
NEXIOM_PIPELINE_LINGER_SECONDS = env_float("NEXIOM_PIPELINE_LINGER_SECONDS", 0.05)
# Fast hashing: tests create many users; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# CELERY_TASK_TENANT_CACHE_SECONDS keeps its production value (30 s): the
# suspension tests must see what production workers see.
