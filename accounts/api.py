"""The tenant's user API (DRF): users, invitations, personal tokens, me."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import ApiToken, Invitation, User
from accounts.permissions import IsAdmin, IsAdminOrReadOnly, IsMember, role_of
from accounts.roles import Role

ROLE_CHOICES = [role.value for role in Role]


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


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
        return User.objects.prefetch_related("groups").order_by("username")

    @extend_schema(request=RoleChangeSerializer, responses=UserSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        user = self.get_object()
        change = RoleChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        try:
            services.user_role_set(user=user, role=change.validated_data["role"])
        except services.LastAdminError as exc:
            raise Conflict(str(exc)) from exc
        return Response(UserSerializer(self.get_queryset().get(pk=user.pk)).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        user = self.get_object()
        try:
            services.user_deactivate(user=user)
        except services.LastAdminError as exc:
            raise Conflict(str(exc)) from exc
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
        queryset = Invitation.objects.select_related("invited_by")
        wanted = self.request.query_params.get("status")
        return queryset.with_status(wanted) if wanted else queryset

    def perform_create(self, serializer: InvitationSerializer) -> None:
        try:
            serializer.instance = services.invitation_create(
                email=serializer.validated_data["email"],
                role=serializer.validated_data["role"],
                invited_by=self.request.user,
            )
        except services.InvitationError as exc:
            raise exceptions.ValidationError({"email": [str(exc)]}) from exc

    def perform_destroy(self, instance: Invitation) -> None:
        try:
            services.invitation_revoke(invitation=instance)
        except services.InvitationError as exc:
            raise Conflict(str(exc)) from exc

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        try:
            invitation = services.invitation_resend(invitation=self.get_object())
        except services.InvitationError as exc:
            raise Conflict(str(exc)) from exc
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

    serializer_class = ApiTokenSerializer
    permission_classes = [IsMember]

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(responses={201: CreatedApiTokenSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        if request.auth is not None:
            raise exceptions.PermissionDenied(
                "Create tokens from a signed-in session, not with another token."
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            created = services.api_token_create(
                user=request.user,
                name=serializer.validated_data["name"],
                expires_in_days=serializer.validated_data.get("expires_in_days"),
            )
        except services.TokenError as exc:
            raise exceptions.ValidationError({"expires_in_days": [str(exc)]}) from exc
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
