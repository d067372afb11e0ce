"""The tenant's user API (DRF): users, invitations, personal tokens, me.

Views validate, call one service and serialize. Refusals are the services'
domain errors, rendered by ``nexiom.api_errors`` in the one error body.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.errors import TokenMintingForbidden
from accounts.models import ApiToken, Invitation, User
from accounts.permissions import IsAdmin, IsAdminOrReadOnly, IsMember, role_of
from accounts.roles import Role
from nexiom.openapi import error_responses

ROLE_CHOICES = [role.value for role in Role]


class UserSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Admin, Editor, Viewer or null")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "role_source",
            "is_active",
            "last_login",
            "date_joined",
        ]
        read_only_fields = fields

    def get_role(self, user: User) -> str | None:
        role = role_of(user) if user.is_superuser else user.role
        return role.value if role else None


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Everyone in the tenant reads users; Admins change roles and (de)activate."""

    serializer_class = UserSerializer
    permission_classes = [IsAdminOrReadOnly]

    def get_queryset(self) -> QuerySet[User]:
        return selectors.users_list()

    def get_object(self) -> User:
        user = selectors.user_get_for_user(actor=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, user)
        return user

    # 409: the tenant's last Admin cannot be demoted or deactivated.
    @extend_schema(
        request=RoleChangeSerializer, responses={200: UserSerializer, **error_responses("409")}
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        user = self.get_object()
        change = RoleChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        services.user_role_set(user=user, role=change.validated_data["role"])
        return Response(UserSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={200: UserSerializer, **error_responses("409")})
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        user = services.user_deactivate(user=self.get_object())
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str | None = None) -> Response:
        user = services.user_reactivate(user=self.get_object())
        return Response(UserSerializer(user).data)


class InvitationSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    status = serializers.CharField(read_only=True)
    invited_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created",
            "expires_at",
            "last_sent_at",
            "send_count",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = [f for f in fields if f not in ("email", "role")]


@extend_schema_view(
    # 409: already a member; an invitation already accepted cannot be revoked.
    create=extend_schema(responses={201: InvitationSerializer, **error_responses("409")}),
    destroy=extend_schema(responses={204: None, **error_responses("409")}),
)
class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Admins invite, list, re-send and revoke (DELETE revokes; the row stays)."""

    serializer_class = InvitationSerializer
    permission_classes = [IsAdmin]

    def get_queryset(self) -> QuerySet[Invitation]:
        return selectors.invitations_list(status=self.request.query_params.get("status"))

    def perform_create(self, serializer: InvitationSerializer) -> None:
        serializer.instance = services.invitation_create(
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
            invited_by=self.request.user,
        )

    def perform_destroy(self, instance: Invitation) -> None:
        services.invitation_revoke(invitation=instance)

    # 409: accepted, revoked or expired: create a new one (found by the API fuzzing).
    @extend_schema(request=None, responses={200: InvitationSerializer, **error_responses("409")})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        invitation = services.invitation_resend(invitation=self.get_object())
        return Response(InvitationSerializer(invitation).data)


class ApiTokenSerializer(serializers.ModelSerializer):
    expires_in_days = serializers.IntegerField(
        write_only=True, required=False, min_value=1, help_text="default 90"
    )
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "status",
            "created",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "expires_in_days",
        ]
        read_only_fields = ["prefix", "created", "expires_at", "last_used_at", "revoked_at"]


class CreatedApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret. Shown once: store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own personal API tokens. DELETE revokes."""

    # Never queried (get_queryset scopes to the caller); tells the schema {id} is an integer.
    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer
    permission_classes = [IsMember]

    def get_queryset(self) -> QuerySet[ApiToken]:
        return selectors.api_tokens_owned_by(user=self.request.user)

    @extend_schema(responses={201: CreatedApiTokenSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        if request.auth is not None:
            raise TokenMintingForbidden()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.api_token_create(
            user=request.user,
            name=serializer.validated_data["name"],
            expires_in_days=serializer.validated_data.get("expires_in_days"),
        )
        data = CreatedApiTokenSerializer(created.token).data
        data["token"] = created.plaintext
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.api_token_revoke(token=instance)


class MeSerializer(UserSerializer):
    tenant = serializers.SerializerMethodField()
    is_superuser = serializers.BooleanField(read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_superuser", "tenant"]
        read_only_fields = fields

    def get_tenant(self, user: User) -> dict:
        tenant = self.context["request"].tenant
        return {"slug": tenant.slug, "name": tenant.name}


class MeView(APIView):
    """Who you are in this tenant."""

    permission_classes = [IsMember]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        data = MeSerializer(request.user, context={"request": request}).data
        data["role"] = role_of(request.user).value
        return Response(data)
