"""Keyset pages over the API: the `limit` and `cursor` query parameters and the `next` link.

A cursor is opaque to clients (base64 of the last row's sort time and id); they only follow `next`."""

import base64
import binascii
import json
from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from inbox.api.errors import ApiError
from inbox.selectors import Page, PageKey

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# Ids are 64-bit in the database; a larger number in a cursor or filter would be a database error.
MAX_ID = 2**63 - 1

PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit", OpenApiTypes.INT, description=f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."
    ),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="Where to continue: copied from a previous `next`."),
]


def invalid(detail: str) -> ApiError:
    return ApiError(400, "invalid", detail)


def encode_cursor(key: PageKey) -> str:
    time, pk = key
    raw = json.dumps([time.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        time_text, pk = json.loads(raw)
        time = datetime.fromisoformat(time_text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise invalid("The cursor is not valid: follow the `next` link of a previous page.")
    if time.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk <= MAX_ID:
        raise invalid("The cursor is not valid: follow the `next` link of a previous page.")
    return time, pk


def page_request(request: Request) -> tuple[PageKey | None, int]:
    """The (cursor key, limit) a request asks for; 400 when either is not valid. Limits above the maximum
    are lowered to it."""
    limit_text = request.query_params.get("limit")
    if limit_text is None:
        limit = DEFAULT_LIMIT
    else:
        try:
            limit = int(limit_text)
        except ValueError:
            raise invalid(f"`limit` must be a whole number from 1 to {MAX_LIMIT}.")
        if limit < 1:
            raise invalid(f"`limit` must be a whole number from 1 to {MAX_LIMIT}.")
        limit = min(limit, MAX_LIMIT)
    cursor = request.query_params.get("cursor")
    return (decode_cursor(cursor) if cursor else None), limit


def next_link(request: Request, page: Page) -> str | None:
    """The absolute URL of the following page (same filters and limit), or None on the last page."""
    if page.next_key is None:
        return None
    return replace_query_param(request.build_absolute_uri(), "cursor", encode_cursor(page.next_key))


def integer_parameter(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not 0 <= number <= MAX_ID:
        raise invalid(f"`{name}` must be an id (a whole number), not {value!r}.")
    return number


def choice_parameter(request: Request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value not in choices:
        raise invalid(f"`{name}` must be one of {', '.join(choices)}; got {value!r}.")
    return value
