"""The WhatsApp business profile as pure functions: Meta's checks of `POST /{phone_number_id}/
whatsapp_business_profile` and the shape `GET` answers. No ORM; table-tested in tests/simulator/test_profile.py.

Limits (OA `WhatsAppBusinessProfileUpdateRequest`, Meta's business-profile reference): about 1-139
characters, address ≤ 256, description ≤ 512 (OA says 256; Meta's reference page says 512, and the larger
is accepted), email ≤ 128 and shaped like an address, at most 2 websites (http(s), ≤ 256 each), vertical
from Meta's enum (both of OA's lists: `WhatsAppBusinessVertical` and `WhatsAppBusinessVertical_1`).
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from simulator.errors import GraphError, invalid_parameter

ABOUT_MAX = 139
ADDRESS_MAX = 256
DESCRIPTION_MAX = 512
EMAIL_MAX = 128
WEBSITES_MAX = 2
WEBSITE_MAX = 256

VERTICALS = (
    "UNDEFINED",
    "OTHER",
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "ALCOHOL",
    "ONLINE_GAMBLING",
    "PHYSICAL_GAMBLING",
    "OTC_DRUGS",
    "NOT_A_BIZ",
)

# What `GET` answers when `fields` is absent (RB:business_profile/details_queries_all_fields_by_default).
FIELDS = ("about", "address", "description", "email", "profile_picture_url", "websites", "vertical")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ProfileUpdate:
    """The fields a valid update sets (None: left as it is; "" or []: cleared)."""

    about: str | None = None
    address: str | None = None
    description: str | None = None
    email: str | None = None
    websites: list[str] | None = None
    vertical: str | None = None
    profile_picture_handle: str | None = None


def _text(body: dict, key: str, *, max_length: int, min_length: int = 0) -> str | None:
    if key not in body:
        return None
    value = body[key]
    if not isinstance(value, str):
        raise invalid_parameter(f"Param {key} must be a string.")
    if len(value) > max_length:
        raise invalid_parameter(f"Param {key} must be at most {max_length} characters long.")
    if len(value) < min_length:
        raise invalid_parameter(f"Param {key} must be at least {min_length} characters long.")
    return value


def parse_update(body: Any) -> ProfileUpdate:
    """Check an update body as Meta does; GraphError code 100 with Meta's details otherwise."""
    if not isinstance(body, dict):
        raise invalid_parameter("The request body must be a JSON object.")
    product = body.get("messaging_product")
    if product is None:
        raise invalid_parameter("The parameter messaging_product is required.")
    if product != "whatsapp":
        raise invalid_parameter(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    email = _text(body, "email", max_length=EMAIL_MAX)
    if email and not _EMAIL.match(email):
        raise invalid_parameter("Param email must be a valid email address.")
    websites = None
    if "websites" in body:
        websites = body["websites"]
        if not isinstance(websites, list) or not all(isinstance(site, str) for site in websites):
            raise invalid_parameter("Param websites must be an array of strings.")
        if len(websites) > WEBSITES_MAX:
            raise invalid_parameter(f"Param websites must have at most {WEBSITES_MAX} elements.")
        for index, site in enumerate(websites):
            if len(site) > WEBSITE_MAX:
                raise invalid_parameter(f"Param websites[{index}] must be at most {WEBSITE_MAX} characters long.")
            if urlparse(site).scheme not in ("http", "https") or not urlparse(site).netloc:
                raise invalid_parameter(f"Param websites[{index}] must be a URL starting with http:// or https://.")
    vertical = None
    if "vertical" in body:
        vertical = body["vertical"]
        if vertical not in VERTICALS:
            raise invalid_parameter(f'Param vertical must be one of {{{", ".join(VERTICALS)}}} - got "{vertical}".')
    handle = None
    if "profile_picture_handle" in body:
        handle = body["profile_picture_handle"]
        if not isinstance(handle, str) or not handle:
            raise invalid_parameter("Param profile_picture_handle must be a non-empty string.")
    return ProfileUpdate(
        about=_text(body, "about", max_length=ABOUT_MAX, min_length=1),
        address=_text(body, "address", max_length=ADDRESS_MAX),
        description=_text(body, "description", max_length=DESCRIPTION_MAX),
        email=email,
        websites=websites,
        vertical=vertical,
        profile_picture_handle=handle,
    )


def profile_object(stored: dict[str, Any], *, fields: list[str] | None) -> dict[str, Any]:
    """One element of `GET`'s `data`: the requested fields that are set (Meta leaves unset ones out), then
    `messaging_product`. An unknown field is refused as Graph refuses it."""
    wanted = fields or list(FIELDS)
    unknown = [name for name in wanted if name not in FIELDS and name != "messaging_product"]
    if unknown:
        raise GraphError(
            code=100,
            message=f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (WhatsAppBusinessProfile)",
        )
    answer = {name: stored[name] for name in FIELDS if name in wanted and stored.get(name) not in (None, "", [])}
    answer["messaging_product"] = "whatsapp"
    return answer
