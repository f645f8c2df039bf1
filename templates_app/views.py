"""The message-template pages under `/templates/`: the list, the editor (with its live lint), one template's
detail (previews, review actions, revisions, timeline, analytics), and WhatsApp sync.

Thin views: authorise with `templates_app.access`, read with `templates_app.selectors`, write only through
`templates_app.services`, render. A refusal is shown where the person acted, in the service's sentence.
Actions on the detail page answer htmx with a swap of the page's main area (success: the page again with
its flash message; refusal: the page with the sentence beside the action); plain posts redirect or render.
"""

import json
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox import access as inbox_access
from inbox.models import Channel
from inbox.views.inbox import signed_in
from templates_app import access, forms, policy, selectors, sending, services
from templates_app.lint import Code, Finding, Severity
from templates_app.models import (
    MessageTemplate,
    ParameterFormat,
    ProviderStatus,
    RevisionState,
    TemplateCategory,
    TemplateRevision,
)

PAGE_SIZE = 100
SEARCH_MAX_LENGTH = 100


def _template_or_404(request: HttpRequest, template_id: int) -> MessageTemplate:
    template = selectors.template_get(user=request.user, template_id=template_id)
    if template is None:
        raise Http404(_("No such template."))
    return template


def _revision_or_404(template: MessageTemplate, revision_id: int) -> TemplateRevision:
    revision = template.revisions.select_related("template").filter(pk=revision_id).first()
    if revision is None:
        raise Http404(_("No such revision."))
    return revision


def _account_names(accounts: list[Channel]) -> dict[str, str]:
    return {channel.waba_id: channel.name for channel in accounts}


# --- The list ------------------------------------------------------------------------------------------------


@signed_in
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """Every template of the numbers the person works, with filters; admins also get the templates waiting
    for their approval, and a sync per WhatsApp account."""
    user = request.user
    is_reviewer = access.can_review_templates(user)
    view = request.GET.get("view", "")
    filters = selectors.ListFilters(
        status=request.GET.get("status", "") if request.GET.get("status", "") in _status_filter_values() else "",
        category=request.GET.get("category", "") if request.GET.get("category") in TemplateCategory.values else "",
        language=request.GET.get("language", "")[:16],
        search=request.GET.get("q", "")[:SEARCH_MAX_LENGTH].strip(),
        waiting_for=user if view == "waiting" and is_reviewer else None,
    )
    page = Paginator(selectors.template_list(user=user, filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    accounts = access.template_accounts_for(user)
    filtered = any((filters.status, filters.category, filters.language, filters.search))
    return render(
        request,
        "templates_app/list.html",
        {
            "page": page,
            "templates": page.object_list,
            "filters": filters,
            "filtered": filtered,
            "view": "waiting" if filters.waiting_for is not None else "all",
            "waiting_count": selectors.waiting_for_approval_count(user=user) if is_reviewer else 0,
            "status_choices": [(selectors.NOT_SUBMITTED, _("Not submitted")), *ProviderStatus.choices],
            "category_choices": TemplateCategory.choices,
            "languages": selectors.template_languages(user=user),
            "language_names": forms.LANGUAGE_NAMES,
            "accounts": accounts,
            "account_names": _account_names(accounts) if len(accounts) > 1 else {},
            "can_author": access.can_author_templates(user),
            "can_sync": access.can_sync_templates(user),
            "is_reviewer": is_reviewer,
            "query": _query_without_page(request),
        },
    )


def _status_filter_values() -> set[str]:
    return {selectors.NOT_SUBMITTED, *ProviderStatus.values}


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@signed_in
@require_POST
def templates_sync(request: HttpRequest) -> HttpResponse:
    """Import what a WhatsApp account already has and refresh the status of the rest (admins)."""
    if not access.can_sync_templates(request.user):
        raise PermissionDenied
    accounts = access.template_accounts_for(request.user)
    waba_id = request.POST.get("waba_id", "")
    if len(accounts) == 1 and not waba_id:
        waba_id = accounts[0].waba_id
    account = next((channel for channel in accounts if channel.waba_id == waba_id), None)
    if account is None:
        messages.error(request, _("Choose the WhatsApp account to sync."))
        return redirect("templates:list")
    try:
        result = services.templates_sync(waba_id=waba_id, actor=request.user)
    except services.TemplateRefused as refused:
        messages.error(request, refused.detail)
        return redirect("templates:list")
    counts = _("%(imported)d imported, %(updated)d refreshed") % {
        "imported": result.imported,
        "updated": result.updated,
    }
    if result.error:
        messages.error(
            request,
            _("Sync of %(account)s stopped: WhatsApp answered “%(error)s” (%(counts)s before that). Try again later.")
            % {"account": account.name, "error": result.error, "counts": counts},
        )
    else:
        messages.success(request, _("%(account)s synced: %(counts)s.") % {"account": account.name, "counts": counts})
    return redirect("templates:list")


# --- The editor ----------------------------------------------------------------------------------------------


def _name_locked(template: MessageTemplate | None) -> bool:
    """WhatsApp names a template by name + language: once it has seen them they never change."""
    return template is not None and bool(template.provider_template_id or template.live_revision_id)


def _editor(
    request: HttpRequest,
    *,
    state: forms.EditorState,
    accounts: list[Channel],
    template: MessageTemplate | None = None,
    revision: TemplateRevision | None = None,
    starts_revision: int | None = None,
    findings: list | None = None,
    error: str = "",
    blocked: str = "",
    waba_id: str = "",
    status: int = 200,
) -> HttpResponse:
    common, others = forms.language_choices(state.language)
    account_name = ""
    if template is not None:
        account_name = next((channel.name for channel in accounts if channel.waba_id == template.waba_id), "")
    return render(
        request,
        "templates_app/editor.html",
        {
            "template": template,
            "revision": revision,
            "state": state,
            "accounts": accounts,
            "account_name": account_name,
            "waba_id": waba_id or (template.waba_id if template else ""),
            "common_languages": common,
            "other_languages": others,
            "categories": [(value, label, forms.CATEGORY_HELP[value]) for value, label in TemplateCategory.choices],
            "parameter_formats": ParameterFormat.choices,
            "contact_fields": list(sending.PREFILL_FIELDS.items()),
            "name_locked": _name_locked(template),
            "starts_revision": starts_revision,
            "findings": findings,
            "error": error,
            "blocked": blocked,
            "form_action": reverse("templates:edit", args=[template.pk]) if template else reverse("templates:new"),
            "editor_strings": _editor_strings(),
        },
        status=status,
    )


def _editor_strings() -> dict[str, object]:
    """Translated strings the editor's script shows (it never builds sentences from the author's text)."""
    return {
        "sample_for": _("Example for %(variable)s"),
        "prefill": _("Prefill %(variable)s from"),
        "prefill_none": _("Typed when sending"),
        "variable": _("Variable"),
        "example_head": _("Example for WhatsApp's review"),
        "prefill_head": _("Prefill when sending"),
        "no_variables": _("Type {{1}} in the text to add a variable; its example appears here."),
        "no_variables_named": _("Type {{first_name}} in the text to add a variable; its example appears here."),
        "button_quick_reply": _("Quick reply"),
        "button_url": _("Website"),
        "button_phone": _("Call"),
        "button_copy_code": _("Copy code"),
        "button_text": _("Button text"),
        "url": _("Web address"),
        "url_sample": _("Example for {{1}} at the end of the address"),
        "phone_number": _("Phone number"),
        "copy_code": _("Example code"),
        "copy_code_text": _("Copy offer code"),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "remove": _("Remove"),
        "no_buttons": _("No buttons. Add quick replies or call-to-action buttons below."),
        "otp_copy": _("Copy code"),
        "otp_autofill": _("Autofill"),
        "auth_body": _("%(code)s is your verification code."),
        "auth_security": _("For your security, do not share this code."),
        "auth_footer": _("This code expires in %(minutes)s minutes."),
        "media_image": _("Image"),
        "media_video": _("Video"),
        "media_document": _("Document"),
        "empty_body": _("Your message appears here as you type."),
        "now": timezone.localtime().strftime("%H:%M"),
        "contact_fields": {key: str(label) for key, label in sending.PREFILL_FIELDS.items()},
    }


def _after_save(request: HttpRequest, revision: TemplateRevision, *, ask_for_approval: bool) -> HttpResponse:
    template = revision.template
    if not ask_for_approval:
        messages.success(request, _("Draft saved."))
        return redirect("templates:edit", template_id=template.pk)
    try:
        services.template_review_request(revision=revision, author=request.user)
    except services.TemplateRefused as refused:
        # The draft is saved; the editor shows the findings that stop it going for approval.
        messages.error(request, _("Draft saved. %(reason)s") % {"reason": refused.detail})
        return redirect("templates:edit", template_id=template.pk)
    messages.success(request, _("Sent for approval: another admin approves it, then it goes to WhatsApp."))
    return redirect("templates:detail", template_id=template.pk)


@signed_in
@require_http_methods(["GET", "POST"])
def template_new(request: HttpRequest) -> HttpResponse:
    """A new template: its first draft on one of the person's WhatsApp accounts."""
    user = request.user
    if not access.can_author_templates(user):
        raise PermissionDenied
    accounts = access.template_accounts_for(user)
    if request.method != "POST":
        waba_id = accounts[0].waba_id if len(accounts) == 1 else ""
        return _editor(request, state=forms.EditorState(), accounts=accounts, waba_id=waba_id)
    waba_id = request.POST.get("waba_id", "")
    if len(accounts) == 1 and not waba_id:
        waba_id = accounts[0].waba_id

    def again(error: str, status: int = 400) -> HttpResponse:
        return _editor(
            request,
            state=forms.state_of_post(request.POST),
            accounts=accounts,
            error=error,
            waba_id=waba_id,
            status=status,
        )

    if waba_id not in {channel.waba_id for channel in accounts}:
        return again(_("Choose the WhatsApp account the template belongs to."))
    try:
        draft = forms.draft_from_post(request.POST)
    except forms.EditorProblem as problem:
        return again(problem.detail)
    try:
        revision = services.template_draft_create(author=user, waba_id=waba_id, draft=draft)
    except services.TemplateRefused as refused:
        return again(refused.detail, 403 if refused.code == "permission_denied" else 400)
    return _after_save(request, revision, ask_for_approval=request.POST.get("action") == "review")


@signed_in
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    """Edit the draft on its way, or start a new revision of a template WhatsApp approved, rejected or
    paused. A template that cannot change says why."""
    user = request.user
    template = _template_or_404(request, template_id)
    if not access.can_author_templates(user):
        raise PermissionDenied
    accounts = access.template_accounts_for(user)
    current = services.open_revision(template)
    allowed, why_not = policy.may_edit(status=template.status, open_revision_state=current.state if current else None)
    base = current or template.revisions.select_related("template").order_by("-number").first()
    if not allowed:
        state = forms.state_of_revision(base) if base else forms.EditorState(name=template.name)
        return _editor(
            request,
            state=state,
            accounts=accounts,
            template=template,
            revision=base,
            blocked=why_not,
            status=200 if request.method == "GET" else 409,
        )
    starts_revision = None if current else ((base.number + 1) if base else 1)
    locked = _name_locked(template)
    if request.method == "POST":
        fixed = {"fixed_name": template.name, "fixed_language": template.language} if locked else {}

        def again(error: str, status: int = 400) -> HttpResponse:
            return _editor(
                request,
                state=forms.state_of_post(request.POST, **fixed),
                accounts=accounts,
                template=template,
                revision=base,
                starts_revision=starts_revision,
                error=error,
                status=status,
            )

        try:
            draft = forms.draft_from_post(request.POST, **fixed)
        except forms.EditorProblem as problem:
            return again(problem.detail)
        try:
            # Starting a revision and writing it go together: a refused draft leaves no empty revision behind.
            with transaction.atomic():
                revision = current or services.template_revision_start(template=template, author=user)
                revision = services.template_draft_update(revision=revision, author=user, draft=draft)
        except services.TemplateRefused as refused:
            return again(refused.detail, 403 if refused.code == "permission_denied" else 400)
        return _after_save(request, revision, ask_for_approval=request.POST.get("action") == "review")
    if base is None:
        return _editor(
            request,
            state=forms.EditorState(name=template.name, language=template.language, category=template.category),
            accounts=accounts,
            template=template,
            starts_revision=starts_revision,
        )
    state = forms.state_of_revision(base)
    findings = services.template_lint(draft=services.draft_of(base), waba_id=template.waba_id, template=template)
    return _editor(
        request,
        state=state,
        accounts=accounts,
        template=template,
        revision=base,
        starts_revision=starts_revision,
        findings=findings,
    )


@signed_in
@require_POST
def template_lint(request: HttpRequest) -> HttpResponse:
    """The editor's live lint: the form as it is now in, the findings partial out."""
    user = request.user
    if not access.can_author_templates(user):
        raise PermissionDenied
    template = None
    if request.POST.get("template_id", "").isdigit():
        template = selectors.template_get(user=user, template_id=int(request.POST["template_id"]))
    if template is not None:
        waba_id = template.waba_id
    else:
        accounts = {channel.waba_id for channel in access.template_accounts_for(user)}
        waba_id = request.POST.get("waba_id", "")
        # Only the person's own accounts are searched for a name already in use.
        waba_id = waba_id if waba_id in accounts else ""
    fixed = {"fixed_name": template.name, "fixed_language": template.language} if _name_locked(template) else {}
    try:
        draft = forms.draft_from_post(request.POST, **fixed)
    except forms.EditorProblem as problem:
        findings = [Finding(Code.INVALID_COMPONENTS, Severity.ERROR, "components", problem.detail)]
    else:
        findings = services.template_lint(draft=draft, waba_id=waba_id, template=template)
    return render(request, "templates_app/_findings.html", {"findings": findings, "linted": True})


# --- One template --------------------------------------------------------------------------------------------


def _detail(request: HttpRequest, template: MessageTemplate, *, action_error: str = "", status: int = 200):
    user = request.user
    revisions = selectors.template_revisions(template)
    # One revision at a time is on its way, and it is always the newest.
    on_its_way = next((rev for rev in revisions if rev.state in policy.OPEN_REVISION_STATES), None)
    failed = next((rev for rev in revisions if rev.state == RevisionState.SUBMISSION_FAILED), None)
    if failed is not None and on_its_way is not None and on_its_way.number > failed.number:
        failed = None
    live = template.live_revision
    now = timezone.now()
    deadline = (
        policy.disabled_by(flagged_at=template.flagged_at, disable_at=template.disable_at)
        if template.status == ProviderStatus.FLAGGED
        else None
    )
    can_author = access.can_author_templates(user)
    editable, why_not_editable = policy.may_edit(
        status=template.status, open_revision_state=on_its_way.state if on_its_way else None
    )
    reviewer = access.can_review_templates(user)
    review_allowed, why_not_review = (False, "")
    if on_its_way is not None and on_its_way.state == RevisionState.IN_REVIEW:
        review_allowed, why_not_review = policy.may_review(
            reviewer_id=user.pk, reviewer_is_admin=reviewer, author_id=on_its_way.author_id
        )
    # The account is named by a number of it the person works (never one out of their sight).
    channel = inbox_access.channels_visible_to(user).filter(waba_id=template.waba_id).order_by("name", "id").first()
    return render(
        request,
        "templates_app/detail.html",
        {
            "template": template,
            "live": live,
            "on_its_way": on_its_way,
            # The revision whose state and actions the page shows: the one on its way, else a failed submission.
            "current": on_its_way or failed,
            "revisions": revisions,
            "timeline": selectors.template_timeline(template),
            "analytics": selectors.template_analytics(template),
            "sendability": policy.sendability(status=template.status, has_live_revision=live is not None),
            "disabled_by": deadline,
            "time_left": policy.time_left(deadline, now=now),
            "channel": channel,
            "can_edit": can_author and editable,
            "why_not_editable": why_not_editable if can_author else "",
            "can_author": can_author,
            "is_reviewer": reviewer,
            "review_allowed": review_allowed,
            "why_not_review": why_not_review,
            "action_error": action_error,
        },
        status=status,
    )


@signed_in
@require_GET
def template_detail(request: HttpRequest, template_id: int) -> HttpResponse:
    return _detail(request, _template_or_404(request, template_id))


def _act(request: HttpRequest, template: MessageTemplate, action: Callable[[], str]) -> HttpResponse:
    """Run one action of the detail page. Success: the flash message and the page again (a redirect, or for
    htmx a swap of the main area). Refusal: the page with the service's sentence beside the actions."""
    try:
        success = action()
    except services.TemplateRefused as refused:
        if refused.code == "permission_denied":
            raise PermissionDenied(refused.detail)
        if refused.code == "lint_failed":
            # The editor shows the findings, each pointing at the field to fix.
            messages.error(request, refused.detail)
            return _go(request, reverse("templates:edit", args=[template.pk]), swap=False)
        if request.htmx:
            response = _detail(request, template, action_error=refused.detail)
            response["HX-Retarget"] = "#main"
            response["HX-Reselect"] = "#main"
            response["HX-Reswap"] = "outerHTML"
            return response
        return _detail(request, template, action_error=refused.detail, status=400)
    messages.success(request, success)
    return _go(request, reverse("templates:detail", args=[template.pk]), swap=True)


def _go(request: HttpRequest, url: str, *, swap: bool) -> HttpResponse:
    """Send the person to `url`: a redirect; for htmx, a swap of the main area (`swap`) or a full load (the
    editor brings its own script)."""
    if not request.htmx:
        return redirect(url)
    response = HttpResponse(status=204)
    if swap:
        response["HX-Location"] = json.dumps({"path": url, "target": "#main", "select": "#main", "swap": "outerHTML"})
    else:
        response["HX-Redirect"] = url
    return response


@signed_in
@require_POST
def revision_request_review(request: HttpRequest, template_id: int, revision_id: int) -> HttpResponse:
    template = _template_or_404(request, template_id)
    if not access.can_author_templates(request.user):
        raise PermissionDenied
    revision = _revision_or_404(template, revision_id)

    def ask() -> str:
        services.template_review_request(revision=revision, author=request.user)
        return _("Sent for approval: another admin approves it, then it goes to WhatsApp.")

    return _act(request, template, ask)


@signed_in
@require_POST
def revision_review(request: HttpRequest, template_id: int, revision_id: int) -> HttpResponse:
    """An admin other than the author approves the revision (it goes to WhatsApp) or asks for changes."""
    template = _template_or_404(request, template_id)
    if not access.can_review_templates(request.user):
        raise PermissionDenied
    revision = _revision_or_404(template, revision_id)
    approve = request.POST.get("decision") == "approve"
    comment = request.POST.get("comment", "")[:2000]

    def decide() -> str:
        services.template_review_decide(revision=revision, reviewer=request.user, approve=approve, comment=comment)
        if approve:
            return _("Approved: revision %(number)s is being submitted to WhatsApp.") % {"number": revision.number}
        return _("Changes requested: the author was told what to change.")

    return _act(request, template, decide)


@signed_in
@require_POST
def revision_resubmit(request: HttpRequest, template_id: int, revision_id: int) -> HttpResponse:
    """Try a failed submission again (admins), once what stopped it outside the template is fixed."""
    template = _template_or_404(request, template_id)
    if not access.can_review_templates(request.user):
        raise PermissionDenied
    revision = _revision_or_404(template, revision_id)

    def resubmit() -> str:
        services.template_resubmit(revision=revision, user=request.user)
        return _("Submitting revision %(number)s to WhatsApp again.") % {"number": revision.number}

    return _act(request, template, resubmit)
