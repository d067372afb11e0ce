"""``/api/sync-history/``: list and filter events, a record's lineage, replay, bulk replay."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsEditorOrReadOnly
from nexiom.openapi import error_responses
from sync_history import selectors, services
from sync_history.errors import ReplayInvalid
from sync_history.models import EventStatus, Layer, SyncEvent

BULK_MAX = 10_000


class HistoryCursor(CursorPagination):
    """Newest first, by an index; no COUNT over millions of rows."""

    ordering = ("-created", "-id")
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"


class SyncEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncEvent
        fields = [
            "id",
            "created",
            "layer",
            "status",
            "message_id",
            "record_id",
            "delivery_id",
            "connection_id",
            "route_id",
            "external_id",
            "reference",
            "attempt",
            "duration_ms",
            "error_code",
            "error",
            "next_retry_at",
        ]
        read_only_fields = fields


class LineageSerializer(serializers.Serializer):
    record_id = serializers.IntegerField(allow_null=True)
    message_ids = serializers.ListField(child=serializers.IntegerField())
    layers = serializers.DictField(child=SyncEventSerializer(many=True))
    snapshots = serializers.DictField(
        help_text="Each layer's output: raw (preview), replica, canonical, payload, response."
    )


class EventDetailSerializer(SyncEventSerializer):
    detail = serializers.JSONField()
    lineage = serializers.SerializerMethodField()

    class Meta(SyncEventSerializer.Meta):
        fields = [*SyncEventSerializer.Meta.fields, "detail", "lineage"]
        read_only_fields = fields

    @extend_schema(responses=LineageSerializer)
    def get_lineage(self, event: SyncEvent) -> dict:
        lineage = selectors.lineage_of(event)
        return {
            "record_id": lineage.record_id,
            "message_ids": lineage.message_ids,
            "layers": {
                layer: SyncEventSerializer(events, many=True).data
                for layer, events in lineage.by_layer()
            },
            "snapshots": lineage.snapshots,
        }


class ReplaySerializer(serializers.Serializer):
    layer = serializers.ChoiceField(choices=services.REPLAYABLE)


class BulkReplaySerializer(ReplaySerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=BULK_MAX,
        help_text="Event ids; or leave out and give the same filters as the list.",
    )


class ReplayResultSerializer(serializers.Serializer):
    records = serializers.IntegerField(help_text="How many records were sent for replay.")


_FILTERS = [
    OpenApiParameter("status", enum=EventStatus.values),
    OpenApiParameter("layer", enum=Layer.values),
    OpenApiParameter("connection", int),
    OpenApiParameter("route", int),
    OpenApiParameter("since", str, description="ISO 8601 date-time, inclusive"),
    OpenApiParameter("until", str, description="ISO 8601 date-time, exclusive"),
    OpenApiParameter("search", str, description="external id, invoice number or DocNumber"),
]


class SyncHistoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every step of every record. Members read; Editors and Admins replay."""

    queryset = SyncEvent.objects.none()  # scoped by get_queryset; types {id} in the schema
    serializer_class = SyncEventSerializer
    permission_classes = [IsEditorOrReadOnly]
    pagination_class = HistoryCursor

    def get_serializer_class(self):
        return EventDetailSerializer if self.action == "retrieve" else SyncEventSerializer

    def get_queryset(self) -> QuerySet[SyncEvent]:
        return selectors.events_list(**self._filters(self.request))

    def get_object(self) -> SyncEvent:
        event = selectors.event_get(pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, event)
        return event

    # 400: a filter that is not a number or a date-time (found by the API fuzzing).
    @extend_schema(
        parameters=_FILTERS,
        responses={200: SyncEventSerializer(many=True), **error_responses("400")},
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ReplaySerializer, responses=ReplayResultSerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Replay this event's record from a layer (no duplicate at the target)."""
        event = self.get_object()
        body = ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not event.record_id:
            raise ReplayInvalid("This event concerns no record (a whole message, or a refusal).")
        sent = services.history_replay(
            record_ids=[event.record_id], layer=body.validated_data["layer"], actor=request.user
        )
        return Response({"records": sent})

    @extend_schema(
        operation_id="sync_history_bulk_replay",
        request=BulkReplaySerializer,
        responses=ReplayResultSerializer,
        parameters=_FILTERS,
    )
    @action(detail=False, methods=["post"], url_path="replay")
    def bulk_replay(self, request: Request) -> Response:
        """Replay the records of the given events, or of every event the filters select."""
        body = BulkReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        events = selectors.events_list(**self._filters(request))
        if "ids" in body.validated_data:
            events = events.filter(pk__in=body.validated_data["ids"])
        record_ids = list(
            events.exclude(record_id__isnull=True).values_list("record_id", flat=True)[:BULK_MAX]
        )
        sent = services.history_replay(
            record_ids=record_ids, layer=body.validated_data["layer"], actor=request.user
        )
        return Response({"records": sent})

    @staticmethod
    def _filters(request: Request) -> dict:
        params = request.query_params
        filters = {}
        for name in ("status", "layer", "search"):
            if params.get(name):
                filters[name] = params[name]
        for name in ("connection", "route"):
            value = params.get(name, "")
            if value:
                if not value.isdigit():
                    raise ReplayInvalid(f"{name} is a number.", fields={name: ["A number."]})
                filters[name] = int(value)
        for name in ("since", "until"):
            value = params.get(name, "")
            if value:
                parsed = parse_datetime(value)
                if parsed is None:
                    raise ReplayInvalid(
                        f"{name} is an ISO 8601 date-time.", fields={name: ["ISO 8601."]}
                    )
                filters[name] = parsed
        return filters
