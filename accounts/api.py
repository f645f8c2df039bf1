"""`POST /api/v1/auth/token/`: trade an e-mail address and password (and a two-factor code) for an API token."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts import ratelimit, security
from inbox.api.errors import ApiError
from inbox.api.serializers import ErrorSerializer


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="For people with two-factor login on: the current code from their app, or a recovery code.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class LoginTriesThrottle(BaseThrottle):
    """The login tries of `accounts.ratelimit`, shared with the login page: failed tries per e-mail address
    (from whatever client addresses: guessing one person's password from many addresses, or behind a spoofed
    X-Forwarded-For, is slowed down as much as from one) and per client address."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        email = email.strip().lower() if isinstance(email, str) and email.strip() else None
        self.retry_after = ratelimit.retry_after(email=email, address=self.get_ident(request))
        return self.retry_after == 0

    def wait(self) -> float:
        return self.retry_after


class TokenObtainView(APIView):
    # No authentication (and so no CSRF check): the credentials are in the body. Failed tries count against
    # the account and the client address, together with the login page's.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginTriesThrottle]

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
        address = ratelimit.client_address(request)
        if user is None:
            ratelimit.failure_record(email=serializer.validated_data["email"].lower(), address=address)
            raise ApiError(400, "invalid_credentials", "The e-mail address or the password is not right.")
        otp = serializer.validated_data.get("otp", "").strip()
        if security.two_factor_enabled(user):
            if not otp:
                raise ApiError(400, "otp_required", "Two-factor login is on: send the code from your app as `otp`.")
            if not security.two_factor_verify(user=user, code=otp):
                ratelimit.failure_record(email=user.email, address=address)
                raise ApiError(400, "invalid_otp", "That two-factor code is not right, or was already used.")
        elif security.two_factor_required(user):
            raise ApiError(
                400,
                "two_factor_setup_required",
                "Your role must use two-factor login: log in on the web once to set it up, then ask for a token.",
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    def throttled(self, request: Request, wait: float | None) -> None:
        # The login page's sentence; DRF would append its own "Expected available in N seconds".
        refusal = Throttled(detail=ratelimit.TooManyAttempts(int(wait or 0)).message)
        refusal.wait = wait
        raise refusal
