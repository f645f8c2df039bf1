"""`POST /api/v1/auth/token/`: trade an e-mail address and password for an API token."""

import hashlib

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from inbox.api.errors import ApiError
from inbox.api.serializers import ErrorSerializer


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class LoginPerAccountThrottle(SimpleRateThrottle):
    """The "login" rate per e-mail address tried, from whatever client addresses: guessing one person's
    password from many addresses (or behind a spoofed X-Forwarded-For) is slowed down as much as from one."""

    scope = "login"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": "login-account", "ident": ident}


class TokenObtainView(APIView):
    # No authentication (and so no CSRF check): the credentials are in the body. Rate-limited by the
    # "login" scope per client address and per account.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle, LoginPerAccountThrottle]
    throttle_scope = "login"

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # E-mail addresses are stored lower-cased. An inactive person is refused like a wrong password
        # (Django's backend returns no user), so the answer does not tell whether the account exists.
        user = authenticate(
            request,
            email=serializer.validated_data["email"].lower(),
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise ApiError(400, "invalid_credentials", "The e-mail address or the password is not right.")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
