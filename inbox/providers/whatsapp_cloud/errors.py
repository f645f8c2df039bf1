"""Cloud API error codes in plain words: what happened, what to do, and whether trying again can help.

One table, used wherever an error reaches a person or a retry decision: the API's message `error.reason`,
the thread in the inbox, and the outbound worker (retry with backoff only when `retryable`). Codes and
actions follow shared/whatsapp-cloud-api.md §11 (Meta's error-code reference).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorInfo:
    code: int | None
    reason: str
    hint: str
    retryable: bool


_TEMPORARY = "A temporary problem at WhatsApp: the message is tried again later."
_CONFIGURATION = "Ask an admin to check the channel's configuration and permissions in Meta's Business Manager."
_FIX_TEMPLATE = "Fix the template or its parameters and send again."

# code: (reason, hint, retryable)
_TABLE: dict[int, tuple[str, str, bool]] = {
    0: ("WhatsApp refused the channel's access token.", "Ask an admin to renew the channel's access token.", False),
    190: ("The channel's access token has expired.", "Ask an admin to renew the channel's access token.", False),
    3: ("The channel is missing a permission for this action.", _CONFIGURATION, False),
    10: ("The channel is missing a permission for this action.", _CONFIGURATION, False),
    4: ("Too many requests to Meta from this app right now.", "Sending slows down and tries again.", True),
    80007: ("Too many requests for this WhatsApp Business Account right now.", "Sending slows down.", True),
    100: (
        "WhatsApp rejected a parameter of the request.",
        "This is a bug or a wrong channel id: report it rather than retrying.",
        False,
    ),
    368: (
        "The WhatsApp Business Account is restricted for a policy violation.",
        "An admin must resolve the restriction in Meta's Business Manager.",
        False,
    ),
    130403: ("The customer is blocked by the business.", "Unblock the customer before writing to them.", False),
    130429: ("Too many messages per second from this number.", "The message is tried again shortly.", True),
    130472: (
        "The customer is part of a Meta marketing experiment, so the message was not sent.",
        "Nothing to do: this is Meta's choice, not an error.",
        False,
    ),
    130497: (
        "This WhatsApp Business Account may not message customers in this country.",
        "An admin must check the account's restrictions.",
        False,
    ),
    131000: ("Something went wrong at WhatsApp.", _TEMPORARY, True),
    131016: ("WhatsApp is temporarily unavailable.", _TEMPORARY, True),
    135000: ("WhatsApp could not handle a parameter of the request.", _TEMPORARY, True),
    131005: ("The channel is not allowed to do this.", _CONFIGURATION, False),
    131008: ("A required part of the message is missing.", "This is a bug: report it.", False),
    131009: ("A part of the message has a value WhatsApp does not accept.", "This is a bug: report it.", False),
    131021: ("The customer's number is the channel's own number.", "Write to a different number.", False),
    131026: (
        "The number cannot receive WhatsApp messages (not on WhatsApp, an old app version, or blocked).",
        "Reach the customer another way.",
        False,
    ),
    131031: (
        "The business account is locked (a policy violation or a wrong two-step PIN).",
        "An admin must unlock it in Meta's Business Manager.",
        False,
    ),
    131042: (
        "There is a problem with the payment method of the WhatsApp Business Account.",
        "An admin must fix billing in Meta's Business Manager.",
        False,
    ),
    131045: (
        "The channel's phone number is not registered correctly.",
        "An admin must register the number again.",
        False,
    ),
    131047: (
        "More than 24 hours since the customer wrote: send a template.",
        "Pick an approved template; free-form replies work again once the customer writes.",
        False,
    ),
    131048: (
        "The number is restricted because too many of its messages were reported as spam.",
        "Slow down and check the number's quality rating.",
        False,
    ),
    131049: (
        "Meta did not deliver this marketing message to keep the customer's experience healthy.",
        "Wait at least 24 hours before sending this customer another marketing message.",
        False,
    ),
    131050: (
        "The customer stopped marketing messages from this business.",
        "Do not send marketing messages to this customer.",
        False,
    ),
    131051: (
        "WhatsApp does not support this kind of message.",
        "Send a different kind of message.",
        False,
    ),
    131052: (
        "The customer's media could not be downloaded.",
        "Ask the customer to send the file again.",
        False,
    ),
    131053: (
        "The media could not be uploaded (wrong file type or too large).",
        "Check the file's type and size and send again.",
        False,
    ),
    131056: (
        "Too many messages to this customer in a short time.",
        "The message is tried again after a pause.",
        True,
    ),
    131057: ("The number is in maintenance at WhatsApp.", "The message is tried again later.", True),
    131062: (
        "This message cannot be sent to a customer known only by their WhatsApp user id.",
        "Send to the customer's phone number instead.",
        False,
    ),
    131063: (
        "Marketing templates are switched off for this account on the Cloud API.",
        "Send marketing messages through the Marketing Messages API.",
        False,
    ),
    131064: (
        "The messaging limit was reached because of a wrongly categorised template.",
        "Stop marketing sends and fix the template's category.",
        False,
    ),
    132000: ("The template's parameters do not match its placeholders.", _FIX_TEMPLATE, False),
    132001: (
        "The template does not exist in this language or is not approved.",
        "Check the template's name and language.",
        False,
    ),
    132005: ("The filled-in template is too long.", _FIX_TEMPLATE, False),
    132007: ("The template's content breaks WhatsApp's policy.", _FIX_TEMPLATE, False),
    132012: ("A template parameter has the wrong format.", _FIX_TEMPLATE, False),
    132015: ("The template is paused for low quality.", "Pick another template.", False),
    132016: ("The template is disabled for low quality.", "Pick another template.", False),
    132068: ("The flow is blocked.", "An admin must check the flow in Meta's Business Manager.", False),
    132069: ("The flow is throttled.", "Try again later.", True),
    133010: ("The channel's phone number is not registered.", "An admin must register the number.", False),
    133016: (
        "Too many registration attempts for the channel's phone number.",
        "Wait before registering the number again.",
        False,
    ),
    137000: (
        "The customer's identity changed since they last wrote.",
        "Confirm the customer's identity before writing again.",
        False,
    ),
}

# Whole ranges Meta documents as one meaning.
_PERMISSION_RANGE = range(200, 300)


def describe(code: int | None) -> ErrorInfo:
    """What a Cloud API error code means for a person and for the retry decision.

    An unknown code is shown as such and not retried: retrying blindly is how a business trips rate limits."""
    if code is None:
        return ErrorInfo(None, "The message could not be delivered.", "See the error details.", False)
    if code in _TABLE:
        reason, hint, retryable = _TABLE[code]
        return ErrorInfo(code, reason, hint, retryable)
    if code in _PERMISSION_RANGE:
        return ErrorInfo(code, "The channel is missing a permission for this action.", _CONFIGURATION, False)
    return ErrorInfo(code, f"WhatsApp reported error {code}.", "See the error details from WhatsApp.", False)


def failure_reason(code: int | None, recorded_title: str = "") -> str:
    """The sentence shown for a failed message: WhatsApp's code explained, else the refusal we recorded
    ourselves (e.g. the window closed before the worker could send)."""
    if code is not None:
        return describe(code).reason
    return recorded_title or describe(None).reason
