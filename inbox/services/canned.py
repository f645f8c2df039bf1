"""Canned responses: saved replies an agent inserts with `/shortcut`. Personal ones belong to their owner;
shared ones (no owner) are kept by admins. The text may use variables, filled in when inserted:
`{{contact.name}}`, `{{contact.first_name}}`, `{{contact.phone}}`, `{{agent.name}}`. An unknown variable is
refused when saving, so a typo never reaches a customer as `{{contcat.name}}`.

Substitution is plain text: the values are customer-controlled (a profile name is hostile text), so the
result is only ever shown escaped (the composer puts it in a textarea's value) and never parsed again.
"""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Role, User
from inbox.models import CannedResponse, Contact

VARIABLE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
VARIABLES = ("contact.name", "contact.first_name", "contact.phone", "agent.name")
TEXT_LENGTH = 4096


class CannedRefused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def can_manage_canned(user: User, canned: CannedResponse) -> bool:
    """Everyone keeps their own; admins keep the shared ones."""
    if not (user.is_authenticated and user.is_active):
        return False
    if canned.owner_id is None:
        return user.role == Role.ADMIN
    return canned.owner_id == user.pk


def _checked(*, shortcut: str, text: str) -> tuple[str, str]:
    clean = slugify(shortcut.strip().lstrip("/"))[:64]
    if not clean:
        raise CannedRefused("invalid_shortcut", "Give it a shortcut of letters, digits, - or _ (e.g. “thanks”).")
    text = text.strip()
    if not text:
        raise CannedRefused("empty", "Write the text of the response.")
    if len(text) > TEXT_LENGTH:
        raise CannedRefused("text_too_long", f"A canned response holds at most {TEXT_LENGTH} characters.")
    unknown = sorted({name for name in VARIABLE.findall(text) if name not in VARIABLES})
    if unknown:
        listed = ", ".join("{{" + name + "}}" for name in unknown)
        known = ", ".join("{{" + name + "}}" for name in VARIABLES)
        raise CannedRefused("unknown_variable", f"Unknown variable {listed}. You can use {known}.")
    return clean, text


def canned_create(*, author: User, shortcut: str, text: str, shared: bool = False) -> CannedResponse:
    """A personal response of `author`, or a shared one (admins only)."""
    if shared and author.role != Role.ADMIN:
        raise CannedRefused("permission_denied", "Only admins add shared responses.")
    shortcut, text = _checked(shortcut=shortcut, text=text)
    try:
        with transaction.atomic():
            return CannedResponse.objects.create(owner=None if shared else author, shortcut=shortcut, text=text)
    except IntegrityError:
        raise CannedRefused("duplicate_shortcut", f"/{shortcut} is already taken; choose another shortcut.")


def canned_update(
    *, canned: CannedResponse, author: User, shortcut: str | None = None, text: str | None = None
) -> CannedResponse:
    if not can_manage_canned(author, canned):
        raise CannedRefused("permission_denied", "You may not change this response.")
    shortcut, text = _checked(
        shortcut=canned.shortcut if shortcut is None else shortcut, text=canned.text if text is None else text
    )
    canned.shortcut, canned.text, canned.updated_at = shortcut, text, timezone.now()
    try:
        with transaction.atomic():
            canned.save(update_fields=["shortcut", "text", "updated_at"])
    except IntegrityError:
        raise CannedRefused("duplicate_shortcut", f"/{shortcut} is already taken; choose another shortcut.")
    return canned


def canned_delete(*, canned: CannedResponse, author: User) -> None:
    if not can_manage_canned(author, canned):
        raise CannedRefused("permission_denied", "You may not delete this response.")
    canned.delete()


def canned_render(text: str, *, contact: Contact | None, agent: User) -> str:
    """The text with its variables filled in, as plain text (escape it wherever it is shown). A variable
    without a value (a username-only contact has no phone) becomes empty; an unknown one stays as written."""
    name = contact.display_name if contact is not None else ""
    values = {
        "contact.name": name,
        "contact.first_name": (contact.profile_name or name).split()[0] if contact is not None and name else "",
        "contact.phone": f"+{contact.wa_id}" if contact is not None and contact.wa_id else "",
        "agent.name": (agent.name or agent.email.split("@", 1)[0]) if agent is not None else "",
    }
    return VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), text)
