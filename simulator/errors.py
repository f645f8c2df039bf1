"""Graph API errors exactly as Meta shapes them (shared/whatsapp-cloud-api.md §1, §11).

Synchronous errors become the HTTP error envelope; asynchronous ones (131047, 131026, 131053 for links)
become the `errors[]` of a `failed` status webhook. The titles are Meta's.
"""

import secrets
import string
from dataclasses import dataclass

ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

TITLES = {
    100: "Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    130429: "Rate limit hit",
    131009: "Parameter value is not valid",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131050: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages "
    "on WhatsApp from your business.",
    131053: "Media upload error",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    132012: "Parameter format does not match format in the created template",
    132015: "Template is Paused",
    132016: "Template is Disabled",
    137000: "Identity key hash mismatch",
}

DETAILS = {
    130429: "Cloud API message throughput has been reached.",
    131026: "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp "
    "phone number; the recipient has not accepted the new Terms of Service and Privacy Policy; the recipient "
    "is using an old WhatsApp version.",
    131047: "Message failed to send because more than 24 hours have passed since the customer last replied "
    "to this number.",
    131048: "Message failed to send because there are restrictions on how many messages can be sent from this "
    "phone number. This may be because too many previous messages were blocked or flagged as spam.",
    131050: "Message failed to send because the user stopped receiving marketing messages from this business.",
    131056: "Message failed to send because there were too many messages sent from this phone number to the "
    "same phone number in a short period of time.",
    132015: "Template is paused due to low quality so it cannot be sent in a template message.",
    132016: "Template has been paused too many times due to low quality and is now permanently disabled.",
    137000: "The recipient's identity key hash does not match the one the message was sent with: the customer's "
    "identity changed (for example they reinstalled WhatsApp). Confirm their identity before writing again.",
}

_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"


def fbtrace_id() -> str:
    return "A" + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))


@dataclass
class GraphError(Exception):
    """A refusal the Graph API answers synchronously.

    Messaging errors carry `error_data.details`; management errors (templates) carry Meta's
    `is_transient`, `error_user_title` and `error_user_msg` instead."""

    code: int
    details: str = ""
    http_status: int = 400
    type: str = "OAuthException"
    message: str = ""
    error_subcode: int | None = None
    user_title: str = ""
    user_msg: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.message or f"(#{self.code}) {TITLES.get(self.code, 'Error')}")
        self.details = self.details or DETAILS.get(self.code, "")

    def envelope(self) -> dict:
        error: dict = {"message": str(self), "type": self.type, "code": self.code}
        if self.error_subcode is not None:
            error["error_subcode"] = self.error_subcode
        if self.user_title or self.user_msg:
            error["is_transient"] = False
            error["error_user_title"] = self.user_title
            error["error_user_msg"] = self.user_msg
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def invalid_parameter(details: str) -> GraphError:
    return GraphError(code=100, details=details)


def invalid_template(user_title: str, user_msg: str, *, error_subcode: int | None = None) -> GraphError:
    """A template management refusal, shaped like RB:templates/delete_template_with_error_response:
    `"message":"Invalid parameter"`, code 100, and a title and sentence meant for people."""
    return GraphError(
        code=100, message="Invalid parameter", error_subcode=error_subcode, user_title=user_title, user_msg=user_msg
    )


def invalid_value(details: str) -> GraphError:
    """Meta's 131009: a parameter is present and well-typed but outside the allowed range."""
    return GraphError(code=131009, details=details)


def bad_token() -> GraphError:
    return GraphError(code=190, http_status=401)


def unknown_object(object_id: str, method: str = "get") -> GraphError:
    """The real answer for an id that does not exist, or that this token may not touch (subcode 33)."""
    return GraphError(
        code=100,
        type="GraphMethodException",
        error_subcode=33,
        message=f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
    )


def status_error(code: int, details: str = "") -> dict:
    """One entry of a failed status's `errors[]`."""
    title = TITLES.get(code, "Error")
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or DETAILS.get(code, "")},
        "href": ERROR_CODES_HREF,
    }
