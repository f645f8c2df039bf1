"""Login (password, then the two-factor code or its first set-up), the Security page and accepting an invitation.

Thin views: the rules and every write are in `accounts.security`, the try counting in `accounts.ratelimit`.

Between the password and the second step, the session holds a "pending login" (who, which backend, the
password hash they proved, where to go next), never the login itself: nothing behind `login_required` opens
until the code is right. It lapses after PENDING_SECONDS, or at once when the password changes meanwhile.
"""

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import ratelimit, security
from accounts.models import User

PENDING = "login_pending"
PENDING_SECONDS = 10 * 60
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class LoginForm(AuthenticationForm):
    """Django's login form; e-mail addresses are stored lower-cased, so they are matched that way."""

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=32, strip=True)


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(label=gettext_lazy("Current password"), strip=False, widget=forms.PasswordInput)
    new_password = forms.CharField(label=gettext_lazy("New password"), strip=False, widget=forms.PasswordInput)
    new_password_again = forms.CharField(
        label=gettext_lazy("New password again"), strip=False, widget=forms.PasswordInput
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Password"), strip=False, widget=forms.PasswordInput)


class InvitationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), strip=False, widget=forms.PasswordInput)
    password_again = forms.CharField(label=gettext_lazy("Password again"), strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


# The pending login


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _pending_start(request: HttpRequest, user: User, *, backend: str, next_url: str) -> None:
    request.session[PENDING] = {
        "user_id": user.pk,
        "auth_hash": user.get_session_auth_hash(),
        "backend": backend,
        "next": next_url,
        "started": time.time(),
    }


def _pending_user(request: HttpRequest) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING) or {}
    if not pending or time.time() - pending.get("started", 0) > PENDING_SECONDS:
        return None, {}
    user = get_user_model().objects.filter(pk=pending.get("user_id"), is_active=True).first()
    if user is None or user.get_session_auth_hash() != pending.get("auth_hash"):
        return None, {}
    return user, pending


def _pending_finish(request: HttpRequest, user: User, pending: dict) -> None:
    request.session.pop(PENDING, None)
    auth_login(request, user, backend=pending["backend"])


def _throttled(request: HttpRequest, email: str | None) -> str | None:
    """The "Too many attempts" sentence when this account or address has used up its tries, else None."""
    try:
        ratelimit.check(email=email, address=ratelimit.client_address(request))
    except ratelimit.TooManyAttempts as exc:
        return exc.message
    return None


def _failed(request: HttpRequest, email: str | None) -> None:
    ratelimit.failure_record(email=email, address=ratelimit.client_address(request))


# Login: password, then code or set-up


@sensitive_post_parameters()
@csrf_protect
@never_cache
def login_password(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method != "POST":
        if request.GET.get("next"):
            # Signed in, yet sent here by a page this account may not open: say so rather than loop back to it.
            return _render_login(request, LoginForm(request))
        return redirect(next_url)
    form = LoginForm(request, data=request.POST or None)
    if request.method != "POST":
        return _render_login(request, form)
    email = (request.POST.get("username") or "").strip().lower() or None
    refusal = _throttled(request, email)
    if refusal:
        return _render_login(request, LoginForm(request), refusal=refusal, status=429)
    if not form.is_valid():
        _failed(request, email)
        return _render_login(request, form)
    user = form.get_user()
    if security.two_factor_enabled(user):
        _pending_start(request, user, backend=user.backend, next_url=next_url)
        return redirect("login-code")
    if security.two_factor_required(user):
        _pending_start(request, user, backend=user.backend, next_url=next_url)
        return redirect("login-setup")
    auth_login(request, user)
    return redirect(next_url)


def _render_login(
    request: HttpRequest, form: LoginForm, *, refusal: str | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "refusal": refusal,
        "demo_on": User.objects.filter(is_demo=True, is_active=True).exists(),
    }
    return render(request, "registration/login.html", context, status=status)


@sensitive_post_parameters()
@csrf_protect
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step for people with two-factor on: a code from their app, or one of their recovery codes."""
    user, pending = _pending_user(request)
    if user is None or not security.two_factor_enabled(user):
        return redirect("login")
    form = CodeForm(request.POST or None)
    context = {"form": form, "email": user.email}
    if request.method != "POST":
        return render(request, "registration/login_code.html", context)
    refusal = _throttled(request, user.email)
    if refusal:
        return render(request, "registration/login_code.html", context | {"refusal": refusal}, status=429)
    if form.is_valid() and security.two_factor_verify(user=user, code=form.cleaned_data["code"]):
        _pending_finish(request, user, pending)
        return redirect(pending["next"])
    _failed(request, user.email)
    context["refusal"] = _("That code is not right. Use the current code from your app, or a recovery code.")
    return render(request, "registration/login_code.html", context)


@sensitive_post_parameters()
@csrf_protect
@never_cache
def login_setup(request: HttpRequest) -> HttpResponse:
    """Admins and managers without two-factor set it up right after their password, before they get in."""
    user, pending = _pending_user(request)
    if user is None:
        return redirect("login")
    if security.two_factor_enabled(user):
        return redirect("login-code")
    if not pending.get("secret_shown") or not user.otp_secret:
        # A fresh secret for every login that reaches this step: one somebody else started earlier is dropped.
        security.two_factor_enable(user=user)
        request.session[PENDING] = pending | {"secret_shown": True}
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        refusal = _throttled(request, user.email)
        if refusal:
            return _render_setup(request, "registration/login_setup.html", user, form, refusal, status=429)
        try:
            codes = security.two_factor_confirm(user=user, code=request.POST.get("code", ""))
        except security.SecurityRefused as exc:
            _failed(request, user.email)
            return _render_setup(request, "registration/login_setup.html", user, form, exc.detail)
        _pending_finish(request, user, pending)
        return render(request, "registration/recovery_codes.html", {"codes": codes, "continue_url": pending["next"]})
    return _render_setup(request, "registration/login_setup.html", user, form, None)


def _render_setup(
    request: HttpRequest, template: str, user: User, form: CodeForm, refusal: str | None, *, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "refusal": refusal,
        "secret": user.otp_secret,
        "secret_grouped": " ".join(user.otp_secret[i : i + 4] for i in range(0, len(user.otp_secret), 4)),
        "qr_svg": security.qr_code_svg(security.provisioning_uri(user)),
        "email": user.email,
        "required": security.two_factor_required(user),
    }
    return render(request, template, context, status=status)


# The Security page


def _render_security(request: HttpRequest, *, status: int = 200, **forms_and_errors) -> HttpResponse:
    user = request.user
    context = {
        "two_factor_on": security.two_factor_enabled(user),
        "two_factor_required": security.two_factor_required(user),
        "recovery_codes_left": security.recovery_codes_left(user),
        "password_form": PasswordChangeForm(),
        "disable_form": PasswordConfirmForm(),
    } | forms_and_errors
    return render(request, "accounts/security/security.html", context, status=status)


@login_required
@never_cache
def security_page(request: HttpRequest) -> HttpResponse:
    return _render_security(request)


@login_required
@require_POST
def security_two_factor_start(request: HttpRequest) -> HttpResponse:
    try:
        security.two_factor_enable(user=request.user)
    except security.SecurityRefused as exc:
        messages.error(request, exc.detail)
        return redirect("security")
    return redirect("security-two-factor-setup")


@sensitive_post_parameters()
@login_required
@never_cache
def security_two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if security.two_factor_enabled(user) or not user.otp_secret:
        return redirect("security")
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        refusal = _throttled(request, user.email)
        if refusal:
            return _render_setup(request, "accounts/security/setup.html", user, form, refusal, status=429)
        try:
            codes = security.two_factor_confirm(user=user, code=request.POST.get("code", ""))
        except security.SecurityRefused as exc:
            _failed(request, user.email)
            return _render_setup(request, "accounts/security/setup.html", user, form, exc.detail)
        return render(
            request, "registration/recovery_codes.html", {"codes": codes, "continue_url": reverse("security")}
        )
    return _render_setup(request, "accounts/security/setup.html", user, form, None)


@sensitive_post_parameters()
@login_required
@require_POST
def security_two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST)
    refusal = _throttled(request, request.user.email)
    if refusal:
        form.add_error(None, refusal)
        return _render_security(request, disable_form=form, status=429)
    if not form.is_valid():
        return _render_security(request, disable_form=form, status=400)
    try:
        security.two_factor_disable(user=request.user, password=form.cleaned_data["password"])
    except security.SecurityRefused as exc:
        if exc.code == "wrong_password":
            _failed(request, request.user.email)
        form.add_error("password" if exc.code == "wrong_password" else None, exc.detail)
        return _render_security(request, disable_form=form, status=400)
    messages.success(request, _("Two-factor login is off."))
    return redirect("security")


@login_required
@require_POST
@never_cache
def security_recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        codes = security.recovery_codes_regenerate(user=request.user)
    except security.SecurityRefused as exc:
        messages.error(request, exc.detail)
        return redirect("security")
    return render(request, "registration/recovery_codes.html", {"codes": codes, "continue_url": reverse("security")})


@sensitive_post_parameters()
@login_required
@require_POST
def security_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST)
    # Someone at an unlocked screen must not guess the current password any faster than at the login page.
    refusal = _throttled(request, request.user.email)
    if refusal:
        form.add_error("current_password", refusal)
        return _render_security(request, password_form=form, status=429)
    if not form.is_valid():
        return _render_security(request, password_form=form, status=400)
    try:
        security.password_change(
            user=request.user,
            current_password=form.cleaned_data["current_password"],
            new_password=form.cleaned_data["new_password"],
            keep_session_key=request.session.session_key,
        )
    except security.SecurityRefused as exc:
        _failed(request, request.user.email)
        form.add_error("current_password", exc.detail)
        return _render_security(request, password_form=form, status=400)
    except ValidationError as exc:
        form.add_error("new_password", exc)
        return _render_security(request, password_form=form, status=400)
    update_session_auth_hash(request, request.user)
    messages.success(
        request, _("Password changed. You were logged out everywhere else, and your API tokens were deleted.")
    )
    return redirect("security")


# Invitations


@sensitive_post_parameters()
@csrf_protect
@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee sets their name and password; admins and managers then set up two-factor before getting in."""
    invitation = security.invitation_for_token(token)
    state = security.invitation_state(invitation)
    if not state.usable:
        status = 404 if invitation is None else 410
        return render(request, "registration/invitation_unusable.html", {"reason": state.reason}, status=status)
    form = InvitationForm(request.POST or None)
    context = {"form": form, "invitation": invitation}
    if request.method != "POST" or not form.is_valid():
        return render(request, "registration/invitation_accept.html", context, status=400 if form.errors else 200)
    try:
        user = security.invitation_accept(
            token=token, name=form.cleaned_data["name"], password=form.cleaned_data["password"]
        )
    except security.SecurityRefused as exc:
        form.add_error(None, exc.detail)
        return render(request, "registration/invitation_accept.html", context, status=400)
    except ValidationError as exc:
        form.add_error("password", exc)
        return render(request, "registration/invitation_accept.html", context, status=400)
    home = reverse(settings.LOGIN_REDIRECT_URL)
    if security.two_factor_required(user):
        request.session.flush()
        _pending_start(request, user, backend=MODEL_BACKEND, next_url=home)
        return redirect("login-setup")
    auth_login(request, user, backend=MODEL_BACKEND)
    return redirect(home)
