"""The Desk's sync history: every step of every record, its lineage, replay and discard.

The list stays fast at millions of rows: it never counts the whole table
(an estimate when unfiltered), filters on indexed columns, and searches by
exact external id or reference (invoice number, DocNumber).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html

from nexiom.desk import desk_refusal
from nexiom.errors import DomainError
from sync_history import services
from sync_history.models import EventStatus, SyncEvent
from sync_history.selectors import lineage_of

_BADGES = {
    EventStatus.SUCCEEDED: "#2e7d32",
    EventStatus.RECEIVED: "#1565c0",
    EventStatus.SKIPPED: "#6d6d6d",
    EventStatus.RETRYING: "#ef6c00",
    EventStatus.FAILED: "#c62828",
    EventStatus.DEAD: "#8e0000",
    EventStatus.REFUSED: "#4a148c",
    EventStatus.REPLAY: "#00695c",
}


class EstimatedCountPaginator(Paginator):
    """The planner's row estimate for the unfiltered table: COUNT(*) over millions is slow."""

    @cached_property
    def count(self) -> int:
        query = self.object_list.query
        if not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [f"{connection.schema_name}.{SyncEvent._meta.db_table}"],
                )
                estimate = cursor.fetchone()[0]
            if estimate and estimate > 10_000:
                return int(estimate)
        return super().count


def _replay_action(layer: str):
    def action(model_admin, request: HttpRequest, queryset) -> None:
        record_ids = list(
            queryset.exclude(record_id__isnull=True).values_list("record_id", flat=True)[:10_000]
        )
        try:
            sent = services.history_replay(record_ids=record_ids, layer=layer, actor=request.user)
        except DomainError as error:
            desk_refusal(request, error)
            return
        model_admin.message_user(
            request, f"{sent} record(s) sent for replay from the {layer} layer.", messages.SUCCESS
        )

    action.__name__ = f"replay_from_{layer}"
    return admin.action(description=f"Replay from {layer}", permissions=["change"])(action)


@admin.register(SyncEvent)
class SyncEventAdmin(admin.ModelAdmin):
    list_display = (
        "created",
        "layer",
        "status_badge",
        "external_id",
        "reference",
        "connection_id",
        "route_id",
        "attempt",
        "error_short",
    )
    list_filter = ("status", "layer", "created")
    search_fields = ("=external_id", "=reference")
    search_help_text = "An exact source id, invoice number or QuickBooks DocNumber."
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-created", "-id")
    change_form_template = "admin/sync_history/syncevent/lineage.html"
    actions = [
        _replay_action("replica"),
        _replay_action("normalize"),
        _replay_action("outbound"),
        _replay_action("delivery"),
        "discard_selected",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for name in ("connection_id", "route_id", "record_id", "message_id"):
            value = request.GET.get(name, "")
            if value.isdigit():
                queryset = queryset.filter(**{name: int(value)})
        return queryset

    def get_search_results(self, request, queryset, search_term):
        """Exact, case-sensitive matches on the indexed columns (the admin's "=" would wrap
        them in UPPER(), which no index serves at millions of rows)."""
        term = (search_term or "").strip()[:100]
        if not term:
            return queryset, False
        return queryset.filter(Q(external_id=term) | Q(reference=term)), False

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        return lookup in {
            "connection_id",
            "route_id",
            "record_id",
            "message_id",
        } or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history is appended, never edited

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in SyncEvent._meta.fields]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("sync_history.change_syncevent"):
            return {}
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = SyncEvent.objects.filter(pk=object_id).first()
        extra = dict(extra_context or {})
        if event is not None:
            lineage = lineage_of(event)
            extra.update(
                lineage=lineage.by_layer(),
                snapshots=lineage.snapshots,
                can_act=request.user.has_perm("sync_history.change_syncevent")
                and event.record_id is not None,
                layers=services.REPLAYABLE,
            )
        if request.method == "POST" and event is not None and "replay" in request.POST:
            return self._replay_one(request, event)
        return super().change_view(request, object_id, form_url, extra)

    def _replay_one(self, request: HttpRequest, event: SyncEvent):
        from django.core.exceptions import PermissionDenied
        from django.http import HttpResponseRedirect

        if not request.user.has_perm("sync_history.change_syncevent"):
            raise PermissionDenied
        layer = request.POST.get("replay", "")
        try:
            if layer == "discard":
                services.history_discard(record_ids=[event.record_id], actor=request.user)
                self.message_user(request, "Discarded: no more retries.", messages.SUCCESS)
            else:
                services.history_replay(
                    record_ids=[event.record_id], layer=layer, actor=request.user
                )
                self.message_user(request, f"Sent for replay from {layer}.", messages.SUCCESS)
        except DomainError as error:
            desk_refusal(request, error)
        return HttpResponseRedirect(request.path)

    @admin.action(description="Discard (stop retrying)", permissions=["change"])
    def discard_selected(self, request, queryset) -> None:
        record_ids = list(
            queryset.exclude(record_id__isnull=True).values_list("record_id", flat=True)
        )
        sent = services.history_discard(record_ids=record_ids, actor=request.user)
        self.message_user(request, f"{sent} record(s) discarded.", messages.SUCCESS)

    @admin.display(description="status", ordering="status")
    def status_badge(self, event: SyncEvent) -> str:
        return format_html(
            '<span class="nexiom-badge" data-status="{}" style="background:{};color:#fff;'
            'padding:2px 8px;border-radius:10px">{}</span>',
            event.status,
            _BADGES.get(event.status, "#424242"),
            event.get_status_display(),
        )

    @admin.display(description="error")
    def error_short(self, event: SyncEvent) -> str:
        text = event.error or ""
        return text if len(text) <= 80 else text[:79] + "…"
