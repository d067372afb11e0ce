"""python manage.py vault_rotate [--tenant SLUG ...] [--check] [--batch-size N]

Rotation, step by step: add a higher key version in front of
NEXIOM_VAULT_KEYS (``3:<new>,2:<old>``) and restart; run ``vault_rotate``
(online, resumable: run it again after an interruption); when
``vault_rotate --check`` shows an old version unused in every tenant,
remove it from NEXIOM_VAULT_KEYS.

A secret that does not open (altered, copied from another row or tenant, or
sealed with a different key under the same version) never stops the run:
every other secret is re-sealed, every tenant is visited, each failure is
recorded in its tenant's audit of reads (failed, by vault_rotate) and listed
at the end, and the command exits with an error. ``--check`` opens every
secret to list the same ones (batched, nothing written).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, schema_context
from tqdm import tqdm

from tenants.models import Tenant
from vault.errors import VaultMisconfigured
from vault.keyring import Keyring, keyring_get
from vault.rotation import (
    DEFAULT_BATCH_SIZE,
    RotationFailure,
    key_versions_count,
    secrets_check,
    secrets_rotate,
)


class _ProgressStream:
    """tqdm redraws with carriage returns; Django's OutputWrapper would add newlines."""

    def __init__(self, wrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, style_func=lambda plain: plain, ending="")

    def flush(self) -> None:
        self._wrapper.flush()


class Command(BaseCommand):
    help = (
        "Re-seal every secret of every tenant (or of --tenant SLUG) with the newest key of "
        "NEXIOM_VAULT_KEYS, in batches, while the platform keeps serving. --check prints how "
        "many secrets each key version still holds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenant", action="append", dest="slugs", metavar="SLUG", help="only this tenant"
        )
        parser.add_argument(
            "--check", action="store_true", help="count secrets per key version; change nothing"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"secrets re-sealed per transaction (default {DEFAULT_BATCH_SIZE})",
        )

    def handle(self, *args, slugs, check, batch_size, verbosity, **options) -> None:
        try:
            keyring = keyring_get()
        except VaultMisconfigured as exc:
            raise CommandError(str(exc)) from None
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        tenants = self._tenants(slugs)
        counts = {}
        for tenant in tenants:
            with schema_context(tenant.schema_name):
                counts[tenant.slug] = key_versions_count()

        if check:
            self._report(counts, keyring, partial=bool(slugs))
            failures = {}
            for tenant in tenants:
                with schema_context(tenant.schema_name):
                    failures[tenant.slug] = secrets_check(batch_size=batch_size)
            self._failures_report(failures, verbs=("does not open", "do not open"))
            return
        unknown = sorted({v for per in counts.values() for v in per if v not in keyring})
        if unknown:
            self._report(counts, keyring, partial=bool(slugs))
            raise CommandError(
                "Secrets are sealed with key versions the keyring does not hold ("
                + ", ".join(f"v{v}" for v in unknown)
                + "); put those keys back into NEXIOM_VAULT_KEYS before rotating."
            )
        self._rotate(tenants, counts, keyring, batch_size=batch_size, verbosity=verbosity)

    def _tenants(self, slugs: list[str] | None) -> list[Tenant]:
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("slug")
        if not slugs:
            return list(tenants)
        found = {tenant.slug: tenant for tenant in tenants.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise CommandError(f"No tenant with slug {', '.join(missing)}.")
        return [found[slug] for slug in dict.fromkeys(slugs)]

    def _rotate(self, tenants, counts, keyring: Keyring, *, batch_size: int, verbosity: int):
        newest = keyring.newest_version
        stale = {
            slug: sum(n for v, n in per.items() if v != newest) for slug, per in counts.items()
        }
        per_tenant = {}
        with tqdm(
            total=sum(stale.values()),
            unit="secret",
            desc=f"re-sealing with key v{newest}",
            file=_ProgressStream(self.stderr),
            disable=verbosity == 0,
            mininterval=0.5,
        ) as bar:
            for tenant in tenants:
                if not stale[tenant.slug]:
                    continue
                bar.set_postfix_str(tenant.slug)
                with schema_context(tenant.schema_name):
                    per_tenant[tenant.slug] = secrets_rotate(
                        batch_size=batch_size, on_batch=bar.update
                    )
        if verbosity > 1:
            for slug, result in per_tenant.items():
                self.stdout.write(f"{slug}: {result.resealed} re-sealed")
        resealed = sum(result.resealed for result in per_tenant.values())
        remaining = sum(result.remaining for result in per_tenant.values())
        self.stdout.write(
            f"Re-sealed {resealed} secret{'s' if resealed != 1 else ''} with key v{newest} "
            f"in {len(tenants)} tenant{'s' if len(tenants) != 1 else ''}."
        )
        self._failures_report(
            {slug: list(result.failed) for slug, result in per_tenant.items()},
            verbs=("did not open and was not re-sealed", "did not open and were not re-sealed"),
        )
        if remaining:
            held = "1 secret was" if remaining == 1 else f"{remaining} secrets were"
            raise CommandError(
                f"{held} held by writers through every pass and still on an older key; "
                "run vault_rotate again."
            )

    def _failures_report(
        self, failures: dict[str, list[RotationFailure]], *, verbs: tuple[str, str]
    ) -> None:
        """List the secrets that do not open, per tenant; raise when there are any."""
        total = sum(len(found) for found in failures.values())
        if not total:
            return
        verb = verbs[0] if total == 1 else verbs[1]
        self.stdout.write(f"{total} secret{'s' if total != 1 else ''} {verb}:")
        for slug, found in failures.items():
            for failure in found:
                self.stdout.write(
                    f"  {slug}: secret {failure.secret_id} (purpose {failure.purpose}): "
                    f"{failure.why}"
                )
        raise CommandError(
            f"{total} secret{'s' if total != 1 else ''} {verb} (listed above, and recorded as "
            "failed in each tenant's audit of reads when rotating): restore them from the "
            "source (re-enter the credential) or put back the key that sealed them."
        )

    def _report(self, counts: dict[str, dict[int, int]], keyring: Keyring, *, partial: bool):
        in_use = {v for per in counts.values() for v in per}
        versions = sorted(set(keyring.versions) | in_use, reverse=True)
        width = max([len("all tenants"), *(len(slug) for slug in counts)])
        write = self.stdout.write

        newest = keyring.newest_version
        held = ", ".join(
            f"v{v}" + (" (newest, seals)" if v == newest else "") for v in keyring.versions
        )
        write(f"Keyring: {held}")
        write(f"{'tenant':<{width}}" + "".join(f"{f'v{v}':>9}" for v in versions) + f"{'total':>9}")
        totals = dict.fromkeys(versions, 0)
        for slug, per in counts.items():
            cells = "".join(f"{per.get(v, 0):>9}" for v in versions)
            write(f"{slug:<{width}}{cells}{sum(per.values()):>9}")
            for v, n in per.items():
                totals[v] += n
        cells = "".join(f"{totals[v]:>9}" for v in versions)
        write(f"{'all tenants':<{width}}{cells}{sum(totals.values()):>9}")
        for v in versions:
            n = totals[v]
            if v not in keyring:
                write(
                    f"v{v}: {n} secrets, NOT IN THE KEYRING: they cannot be opened; "
                    f"put key v{v} back."
                )
            elif v == newest:
                write(f"v{v}: {n} secrets (newest key).")
            elif n:
                write(
                    f"v{v}: {n} secrets still sealed with it: run vault_rotate before dropping "
                    "it from NEXIOM_VAULT_KEYS."
                )
            elif partial:
                write(
                    f"v{v}: unused in these tenants; run --check without --tenant before "
                    "dropping it."
                )
            else:
                write(f"v{v}: unused: it can be dropped from NEXIOM_VAULT_KEYS.")
