"""The connections API: ``/api/connections/`` and ``/api/connectors/`` (tenant host).

Secrets are write-only: API-key fields go in on create and never come back;
OAuth tokens never pass through the API at all.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEditorOrReadOnly, IsMember
from connectors import selectors, services
from connectors.models import Connection
from connectors.registry import connector_choices, connectors_installed
from nexiom.openapi import error_responses

#: What the provider's answer can turn into (connectors.errors' remote failures): a refused
#: login or refresh (409 needs reconnecting, 422 refused), 429 slow down, 503 unreachable.
_PROVIDER_REFUSALS = error_responses("409", "422", "429", "503")


class ConnectionSerializer(serializers.ModelSerializer):
    connector = serializers.ChoiceField(choices=[])
    environment = serializers.CharField(default="local", max_length=20)
    api_key = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1000, trim_whitespace=False),
        write_only=True,
        required=False,
        help_text="API-key connectors only: the credential fields (see /api/connectors/). "
        "Write-only.",
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Connection
        fields = [
            "id",
            "connector",
            "name",
            "environment",
            "status",
            "metadata",
            "access_expires_at",
            "refreshed_at",
            "last_checked_at",
            "last_error",
            "created_by",
            "created",
            "api_key",
        ]
        read_only_fields = [
            "status",
            "metadata",
            "access_expires_at",
            "refreshed_at",
            "last_checked_at",
            "last_error",
            "created",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = connector_choices()


class AuthorizeResponseSerializer(serializers.Serializer):
    authorize_url = serializers.URLField()


class TestResponseSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.DictField()
    error = serializers.CharField(allow_blank=True)
    connection = ConnectionSerializer()


@extend_schema_view(
    # An API-key connection logs in at the provider when created.
    create=extend_schema(responses={201: ConnectionSerializer, **_PROVIDER_REFUSALS}),
    # Still used by routes or messages: 409, disable it instead.
    destroy=extend_schema(responses={204: None, **error_responses("409")}),
)
class ConnectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's connections. Members read; Editors and Admins change."""

    queryset = Connection.objects.none()  # scoped by get_queryset; types {id} in the schema
    serializer_class = ConnectionSerializer
    permission_classes = [IsEditorOrReadOnly]

    def get_queryset(self) -> QuerySet[Connection]:
        return selectors.connections_list()

    def get_object(self) -> Connection:
        connection = selectors.connection_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, connection)
        return connection

    def perform_create(self, serializer: ConnectionSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.connection_create(
            connector=data["connector"],
            name=data["name"],
            environment=data["environment"],
            api_key=data.get("api_key"),
            created_by=self.request.user,
        )

    def perform_destroy(self, instance: Connection) -> None:
        services.connection_delete(connection=instance, actor=self.request.user)

    # 400: the platform has no registration at the provider for that environment;
    # 409: an API-key connector, or a disabled connection.
    @extend_schema(
        request=None,
        responses={200: AuthorizeResponseSerializer, **error_responses("400", "409")},
    )
    @action(detail=True, methods=["post"])
    def authorize(self, request: Request, pk: str | None = None) -> Response:
        """Start OAuth: send the user's browser to ``authorize_url``."""
        url = services.authorization_start(connection=self.get_object(), user=request.user)
        return Response({"authorize_url": url})

    # The provider's refusals come back in the body (ok false); 409: not connected.
    @extend_schema(request=None, responses={200: TestResponseSerializer, **error_responses("409")})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        connection = self.get_object()
        result = services.connection_test(connection=connection, actor=request.user)
        return Response(
            {
                "ok": result.ok,
                "detail": result.detail,
                "error": result.error,
                "connection": ConnectionSerializer(connection).data,
            }
        )

    @extend_schema(request=None, responses={200: ConnectionSerializer, **_PROVIDER_REFUSALS})
    @action(detail=True, methods=["post"])
    def refresh(self, request: Request, pk: str | None = None) -> Response:
        connection = services.connection_refresh_now(
            connection=self.get_object(), actor=request.user
        )
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(request=None, responses=ConnectionSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk: str | None = None) -> Response:
        connection = services.connection_disable(connection=self.get_object())
        return Response(ConnectionSerializer(connection).data)


class ConnectorListView(APIView):
    """The installed connectors and the fields each needs to connect."""

    permission_classes = [IsMember]

    @extend_schema(
        responses=inline_serializer(
            "Connector",
            fields={
                "key": serializers.CharField(),
                "name": serializers.CharField(),
                "description": serializers.CharField(),
                "credential": serializers.DictField(),
                "environments": serializers.ListField(child=serializers.DictField()),
                "flows": serializers.DictField(),
            },
            many=True,
        )
    )
    def get(self, request: Request) -> Response:
        return Response(
            [connector.describe() for connector in connectors_installed().values()],
            status=status.HTTP_200_OK,
        )
