"""Working together in the inbox: private notes and @mentions, canned responses (the composer's `/` picker
and the page where people keep them), the notifications bell, unread counts per view, and search.

Thin shells like `inbox.views.inbox`: authenticate, authorise with `inbox.access`, call one service or
selector, render. Scripted requests get JSON or a partial; the canned-responses page posts plain forms.
"""

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox import together_selectors
from inbox.models import CannedResponse
from inbox.services import canned as canned_service
from inbox.services.notes import NoteRefused, mention_handle, mentionable_users, note_add
from inbox.views import display
from inbox.views.inbox import _conversation_or_404, is_partial_request, signed_in

MENTION_SUGGESTIONS = 8
CANNED_SUGGESTIONS = 20


# Notes and mentions


@signed_in
@require_POST
def conversation_note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The composer's Note tab: a private note, answered with its bubble (201) like a reply."""
    conversation = _conversation_or_404(request, conversation_id)
    try:
        note = note_add(conversation=conversation, author=request.user, body=request.POST.get("body", ""))
    except NoteRefused as refused:
        status = 403 if refused.code == "permission_denied" else 400
        return JsonResponse({"code": refused.code, "detail": refused.detail}, status=status)
    display.dress([note], conversation=conversation)
    html = render_to_string("inbox/_bubble.html", {"message": note, "can_reply": True}, request=request)
    return HttpResponse(html, status=201)


@signed_in
@require_GET
def mention_suggestions(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Colleagues who may see the conversation, whose name or e-mail starts with `q` (the `@` autocomplete)."""
    conversation = _conversation_or_404(request, conversation_id)
    everyone = mentionable_users(conversation=conversation)
    people = mentionable_users(
        conversation=conversation, prefix=request.GET.get("q", "")[:64], limit=MENTION_SUGGESTIONS + 1
    )
    results = [
        {
            "id": person.pk,
            "name": person.name or person.email,
            "email": person.email,
            "handle": mention_handle(person, among=everyone),
        }
        for person in people
        if person.pk != request.user.pk
    ][:MENTION_SUGGESTIONS]
    return JsonResponse({"results": results})


# Canned responses


@signed_in
@require_GET
def canned_suggestions(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The `/` picker: the person's and the shared responses starting with `q`, variables filled in for this
    conversation's contact (plain text: the composer puts it in the text box, never in HTML)."""
    conversation = _conversation_or_404(request, conversation_id)
    rows = together_selectors.canned_for_user(user=request.user, prefix=request.GET.get("q", "")[:64])
    results = [
        {
            "id": canned.pk,
            "shortcut": canned.shortcut,
            "shared": canned.owner_id is None,
            "text": canned_service.canned_render(canned.text, contact=conversation.contact, agent=request.user),
        }
        for canned in rows[:CANNED_SUGGESTIONS]
    ]
    return JsonResponse({"results": results})


@signed_in
@require_http_methods(["GET", "POST"])
def canned_page(request: HttpRequest) -> HttpResponse:
    """Everyone keeps their own canned responses here; admins also keep the shared ones."""
    if request.method == "POST":
        try:
            canned = canned_service.canned_create(
                author=request.user,
                shortcut=request.POST.get("shortcut", ""),
                text=request.POST.get("text", ""),
                shared=request.POST.get("shared") == "1",
            )
        except canned_service.CannedRefused as refused:
            return _canned_render(request, error=refused.detail, form=request.POST, status=400)
        flash.success(request, _("/%(shortcut)s is ready: type it in the composer.") % {"shortcut": canned.shortcut})
        return redirect("inbox:canned")
    return _canned_render(request)


def _canned_render(request: HttpRequest, *, error: str = "", form=None, status: int = 200, editing: int | None = None):
    rows = CannedResponse.objects.filter(owner=request.user) | CannedResponse.objects.filter(owner__isnull=True)
    rows = rows.order_by("shortcut", "owner_id")
    context = {
        "personal": [canned for canned in rows if canned.owner_id is not None],
        "shared": [canned for canned in rows if canned.owner_id is None],
        "variables": canned_service.VARIABLES,
        "is_admin": request.user.role == "admin",
        "error": error,
        "form": form or {},
        "editing": editing,
    }
    return render(request, "inbox/canned.html", context, status=status)


def _canned_for_change(request: HttpRequest, canned_id: int) -> CannedResponse:
    canned = CannedResponse.objects.filter(pk=canned_id).first()
    if canned is None or (canned.owner_id is not None and canned.owner_id != request.user.pk):
        raise Http404(_("No such canned response."))
    return canned


@signed_in
@require_POST
def canned_edit(request: HttpRequest, canned_id: int) -> HttpResponse:
    canned = _canned_for_change(request, canned_id)
    try:
        canned_service.canned_update(
            canned=canned,
            author=request.user,
            shortcut=request.POST.get("shortcut", ""),
            text=request.POST.get("text", ""),
        )
    except canned_service.CannedRefused as refused:
        status = 403 if refused.code == "permission_denied" else 400
        return _canned_render(request, error=refused.detail, status=status, editing=canned.pk)
    flash.success(request, _("/%(shortcut)s was saved.") % {"shortcut": canned.shortcut})
    return redirect("inbox:canned")


@signed_in
@require_POST
def canned_delete(request: HttpRequest, canned_id: int) -> HttpResponse:
    canned = _canned_for_change(request, canned_id)
    try:
        canned_service.canned_delete(canned=canned, author=request.user)
    except canned_service.CannedRefused as refused:
        return _canned_render(request, error=refused.detail, status=403)
    flash.success(request, _("/%(shortcut)s was deleted.") % {"shortcut": canned.shortcut})
    return redirect("inbox:canned")


# Notifications and counts


@signed_in
@require_GET
def notifications_panel(request: HttpRequest) -> HttpResponse:
    """The bell's panel: the newest notifications, unread first in weight, each opening its conversation."""
    rows = together_selectors.notification_list(user=request.user)
    return render(
        request,
        "inbox/_notifications.html",
        {"notifications": rows, "unread": together_selectors.notification_unread_count(user=request.user)},
    )


@signed_in
@require_GET
def unread_counts(request: HttpRequest) -> JsonResponse:
    """The list tabs' unread counts and the bell's count, refreshed by the page after live events."""
    counts = together_selectors.unread_counts(request.user)
    counts["notifications"] = together_selectors.notification_unread_count(user=request.user)
    return JsonResponse(counts)


# Search


@signed_in
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """`/search?q=`: messages, conversations and contacts the person may see, grouped by kind. htmx asks
    for the results alone as the person types."""
    query = request.GET.get("q", "")[:200]
    kind = request.GET.get("kind") or None
    results = together_selectors.search(user=request.user, query=query, kind=kind)
    context = {"results": results, "query": query, "kind": kind, "kinds": together_selectors.SEARCH_KINDS}
    if is_partial_request(request):
        return render(request, "inbox/_search_results.html", context)
    return render(request, "inbox/search.html", context)
