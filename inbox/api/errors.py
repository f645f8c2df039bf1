"""Every API error has one shape: `{"code": "<stable_code>", "detail": "<a sentence a person understands>"}`
(plus `fields` for validation errors). Domain errors are mapped to HTTP here, in one place."""

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAcceptable: "not_acceptable",
}


class ApiError(exceptions.APIException):
    """An error with its own stable code, raised by API views: `raise ApiError(409, "not_reprocessable", "...")`."""

    def __init__(self, status_code: int, code: str, detail: str):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = {"code": exc.code, "detail": str(exc.detail)}
        return response
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            {"code": "invalid", "detail": "Some fields are not valid.", "fields": response.data},
            status=status.HTTP_400_BAD_REQUEST,
        )
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    detail = response.data.get("detail", str(exc)) if isinstance(response.data, dict) else str(exc)
    response.data = {"code": code, "detail": str(detail)}
    return response
