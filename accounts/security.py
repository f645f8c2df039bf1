"""Login security: two-factor (TOTP and recovery codes), password changes and accepting an invitation.

Every write of these lives here; views and the token endpoint call these functions. The rules (issue 4):
- Admins and managers must use two-factor; agents may. Demo users of the embedded sandbox are exempt.
- A TOTP code is good once (RFC 6238 §5.2); a recovery code is good once, for ever.
- A password change ends the person's other sessions, deletes their API tokens and closes their sockets.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.contrib.auth import SESSION_KEY, password_validation
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts import totp
from accounts.models import Invitation, RecoveryCode, Role, User
from accounts.services import audit_record
from inbox import events

ISSUER = "Switchboard"
RECOVERY_CODE_COUNT = 10
ROLES_REQUIRING_TWO_FACTOR = (Role.ADMIN, Role.MANAGER)


class SecurityRefused(Exception):
    """The change is refused; `code` is stable (the API returns it), `detail` a sentence for the person."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


# Reads


def two_factor_required(user: User) -> bool:
    """Admins and managers must use two-factor; demo users of the sandbox are exempt."""
    return user.role in ROLES_REQUIRING_TWO_FACTOR and not user.is_demo


def two_factor_enabled(user: User) -> bool:
    return bool(user.otp_secret and user.otp_confirmed_at)


def recovery_codes_left(user: User) -> int:
    return user.recovery_codes.filter(used_at__isnull=True).count()


def provisioning_uri(user: User) -> str:
    return totp.provisioning_uri(user.otp_secret, account=user.email, issuer=ISSUER)


def qr_code_svg(text: str) -> str:
    """`text` as an inline SVG QR code (our own markup, never anything a customer sent)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(text, image_factory=SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation whose link carries `token` (the database keeps only its SHA-256)."""
    return Invitation.objects.filter(token_hash=_sha256(token)).first()


@dataclass(frozen=True)
class InvitationState:
    usable: bool
    reason: str


def invitation_state(invitation: Invitation | None) -> InvitationState:
    if invitation is None:
        return InvitationState(False, _("This invitation link is not valid. Check that you copied all of it."))
    if invitation.accepted_at is not None:
        return InvitationState(
            False, _("This invitation has already been used. Log in, or ask an admin for a new one.")
        )
    if invitation.expires_at <= timezone.now():
        return InvitationState(False, _("This invitation has expired. Ask an admin to invite you again."))
    return InvitationState(True, "")


# Two-factor


def two_factor_enable(*, user: User) -> str:
    """Start setting up two-factor: a new secret, unconfirmed until `two_factor_confirm` sees a first code.
    Returns the secret (the page shows it as text and as a QR code)."""
    if two_factor_enabled(user):
        raise SecurityRefused("already_enabled", _("Two-factor login is already on."))
    user.otp_secret = totp.secret_generate()
    user.otp_confirmed_at = None
    user.save(update_fields=["otp_secret", "otp_confirmed_at"])
    return user.otp_secret


def two_factor_confirm(*, user: User, code: str) -> list[str]:
    """Turn two-factor on once the app's first code matches the pending secret. Returns the recovery codes,
    the only time they exist in clear."""
    with transaction.atomic():
        # Locked and read afresh: of two tabs confirming at once, one wins.
        locked = User.objects.select_for_update().get(pk=user.pk)
        user.otp_secret, user.otp_confirmed_at = locked.otp_secret, locked.otp_confirmed_at
        if two_factor_enabled(user):
            raise SecurityRefused("already_enabled", _("Two-factor login is already on."))
        if not user.otp_secret:
            raise SecurityRefused("not_started", _("Start the set-up again: no secret is waiting for a code."))
        if not _totp_accept(user, code):
            raise SecurityRefused(
                "invalid_code", _("That code is not right. Check the time on your phone and try the new code.")
            )
        user.otp_confirmed_at = timezone.now()
        user.save(update_fields=["otp_confirmed_at"])
        codes = _recovery_codes_replace(user)
        audit_record(actor=user, action="user.two_factor_enabled", target=user)
    return codes


def two_factor_disable(*, user: User, password: str) -> None:
    """Turn two-factor off (only for roles that may go without), after the password is typed again."""
    if two_factor_required(user):
        raise SecurityRefused("two_factor_required", _("Admins and managers must keep two-factor login on."))
    if not user.check_password(password):
        raise SecurityRefused("wrong_password", _("That password is not right."))
    with transaction.atomic():
        user.otp_secret = ""
        user.otp_confirmed_at = None
        user.save(update_fields=["otp_secret", "otp_confirmed_at"])
        user.recovery_codes.all().delete()
        audit_record(actor=user, action="user.two_factor_disabled", target=user)


def two_factor_verify(*, user: User, code: str) -> bool:
    """Whether `code` is this person's current TOTP code (not used before) or one of their unused recovery
    codes, which is then spent."""
    if not two_factor_enabled(user):
        return False
    if _totp_accept(user, code):
        return True
    candidate = _recovery_code_hash(code)
    if candidate is None:
        return False
    row = user.recovery_codes.filter(code_hash=candidate, used_at__isnull=True).first()
    # The conditional update is the spend: of two logins racing with the same code, one wins.
    spent = row is not None and RecoveryCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if spent:
        audit_record(
            actor=user, action="user.recovery_code_used", target=user, details={"left": recovery_codes_left(user)}
        )
    return bool(spent)


def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Returns them in clear, once."""
    if not two_factor_enabled(user):
        raise SecurityRefused("not_enabled", _("Turn two-factor login on first."))
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        audit_record(actor=user, action="user.recovery_codes_regenerated", target=user)
    return codes


def _totp_accept(user: User, code: str) -> bool:
    step = totp.totp_match(user.otp_secret, code, time.time())
    if step is None:
        return False
    # A code seen once is refused afterwards, even within its 90 seconds (someone looking over a shoulder).
    key = f"totp-last-step:{user.pk}"
    last = cache.get(key)
    if last is not None and step <= last:
        return False
    cache.set(key, step, (totp.WINDOW * 2 + 2) * totp.STEP_SECONDS)
    return True


def _recovery_codes_replace(user: User) -> list[str]:
    user.recovery_codes.all().delete()
    codes = [_recovery_code_format(secrets.token_hex(6)) for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=_recovery_code_hash(code)) for code in codes)
    return codes


def _recovery_code_format(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _recovery_code_hash(code: str) -> str | None:
    # 48 random bits each, and tries are rate-limited: a plain SHA-256 is enough, and keeps checking fast.
    normalized = "".join(code.split()).replace("-", "").lower()
    if len(normalized) != 12:
        return None
    return _sha256("recovery:" + normalized)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Passwords


def password_change(*, user: User, current_password: str, new_password: str, keep_session_key: str | None) -> None:
    """Set a new password (Django's validators decide what is acceptable; they raise ValidationError). Ends
    every other session of the person, deletes their API tokens and closes their open sockets. The caller
    keeps its own session with `update_session_auth_hash`."""
    if not user.check_password(current_password):
        raise SecurityRefused("wrong_password", _("Your current password is not right."))
    password_validation.validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _sessions_end(user, keep_session_key=keep_session_key)
        Token.objects.filter(user=user).delete()
        audit_record(actor=user, action="user.password_changed", target=user)
        events.publish_sessions_revoked(user_id=user.pk)


def _sessions_end(user: User, *, keep_session_key: str | None) -> None:
    """Delete the person's other sessions. Django would refuse them anyway at their next request (the
    password hash in them no longer matches); deleting them also ends them for the sockets' checks."""
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key != keep_session_key and session.get_decoded().get(SESSION_KEY) == str(user.pk):
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()


# Invitations


def invitation_accept(*, token: str, name: str, password: str) -> User:
    """Create the invited person with the invitation's role and teams, and spend the invitation. Raises
    SecurityRefused when the link is unknown, used or expired, and ValidationError for a weak password."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token_hash=_sha256(token)).first()
        state = invitation_state(invitation)
        if not state.usable:
            raise SecurityRefused("invitation_unusable", state.reason)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise SecurityRefused(
                "already_a_user", _("Someone with this e-mail address already has an account: log in instead.")
            )
        name = name.strip()
        password_validation.validate_password(password, User(email=invitation.email, name=name))
        user = User.objects.create_user(invitation.email, password, name=name, role=invitation.role)
        user.teams.set(invitation.teams.all())
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(actor=user, action="user.invitation_accepted", target=invitation, details={"role": user.role})
    return user
