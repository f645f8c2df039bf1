from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.crypto import EncryptedTextField


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who works in Switchboard; they log in with their e-mail address."""

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Teamwork: presence drives automatic assignment; capacity caps an agent's open conversations.
    presence = models.CharField(max_length=16, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    max_open_conversations = models.PositiveIntegerField(default=10)
    # Agents an admin allowed to write message templates (admins always may; approval stays with admins).
    can_author_templates = models.BooleanField(default=False)
    # Two-factor login (TOTP). The secret is encrypted at rest; confirmed once the first code matched.
    otp_secret = EncryptedTextField(blank=True, default="")
    otp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Demo users of the embedded mode may log in without two-factor even as admins or managers.
    is_demo = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER


class RecoveryCode(models.Model):
    """A one-time code that replaces a TOTP code when the phone is lost. Stored hashed."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Recovery code of {self.user}"


class Team(models.Model):
    """A group of agents that works some channels. Agents see the conversations of their teams' channels."""

    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    channels = models.ManyToManyField("inbox.Channel", related_name="teams", blank=True)
    # Round-robin position for automatic assignment: the member assigned most recently.
    last_assigned_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """An admin's invitation: whoever opens the link before it expires sets a password and joins."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    token_hash = models.CharField(max_length=128, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Invitation for {self.email}"


class AuditEntry(models.Model):
    """Who did what to users, teams, channels and conversations. Append-only; admins read it."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"
