"""Settings of the pipeline benchmark's processes (gunicorn, Celery workers, the load
generator's reference sender): the test settings, plus the benchmark's own URLconf
(the product's tenant URLs and the floor view) and ``DEBUG`` off, so that no process
keeps every query it ran (Django does that with ``DEBUG`` on). The drains linger as in
production, not as in the tests."""

from nexiom import settings as production
from nexiom.settings_test import *  # noqa: F403

NEXIOM_PIPELINE_LINGER_SECONDS = production.NEXIOM_PIPELINE_LINGER_SECONDS

ROOT_URLCONF = "tests.benchmarks.pipeline_bench_urls"
DEBUG = False
