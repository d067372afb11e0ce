"""Routes (``/api/routes/``) and ingest URLs (``POST /api/connections/{id}/hook/``)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEditorOrReadOnly
from connectors.models import Connection
from connectors.selectors import connection_get_for_user
from pipeline import selectors
from pipeline.models import Route
from pipeline.services.hooks import hook_issue
from pipeline.services.routes import route_create, route_delete, route_update


class RouteSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.all())
    target = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.all())
    mapping = serializers.JSONField(
        required=False,
        help_text='What the target needs, e.g. {"items": {"line_haul": "21", "fuel_surcharge": '
        '"22", "accessorial": "23"}, "tax_code": "TAX", "terms": "3"} for QuickBooks.',
    )

    class Meta:
        model = Route
        fields = ["id", "name", "object_type", "source", "target", "enabled", "mapping", "created"]
        read_only_fields = ["created"]


class RouteUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    enabled = serializers.BooleanField(required=False)
    mapping = serializers.JSONField(required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Send name, enabled or mapping: nothing to change.")
        return attrs


class RouteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Where records go. Members read; Editors and Admins change."""

    queryset = Route.objects.none()  # scoped by get_queryset; types {id} in the schema
    serializer_class = RouteSerializer
    permission_classes = [IsEditorOrReadOnly]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Route]:
        return selectors.routes_list()

    def get_object(self) -> Route:
        route = selectors.route_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, route)
        return route

    def perform_create(self, serializer: RouteSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = route_create(
            name=data["name"],
            source=data["source"],
            target=data["target"],
            object_type=data.get("object_type", Route.ObjectType.INVOICE),
            mapping=data.get("mapping") or {},
            enabled=data.get("enabled", True),
            created_by=self.request.user,
        )

    @extend_schema(request=RouteUpdateSerializer, responses=RouteSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        route = self.get_object()
        changes = RouteUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        route = route_update(route=route, **changes.validated_data)
        return Response(RouteSerializer(route).data)

    def perform_destroy(self, instance: Route) -> None:
        route_delete(route=instance)


class HookResponseSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The ingest URL; shown once. Re-issuing revokes it.")


class HookIssueView(APIView):
    """Issue the connection's ingest URL (the previous one stops working)."""

    permission_classes = [IsEditorOrReadOnly]

    @extend_schema(request=None, responses=HookResponseSerializer)
    def post(self, request: Request, pk: str) -> Response:
        connection = connection_get_for_user(user=request.user, pk=pk)
        return Response({"url": hook_issue(connection=connection).url})
