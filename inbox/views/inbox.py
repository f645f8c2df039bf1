"""The agent inbox: the three-pane page and the partials htmx and `static/js/inbox.js` fetch into it.

Thin shells: authenticate, authorise with `inbox.access`, read through `inbox.views.display` or call one
outbound service, render. A partial asked for by a script while signed out answers 401 with `HX-Redirect`
to the login page (htmx follows it), never the login page's HTML swapped into a pane.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import User
from inbox import access
from inbox.models import Conversation, LiveEvent, Message
from inbox.services import contacts as contacts_service
from inbox.services import outbound
from inbox.services.notifications import notifications_mark_read_for_conversation
from inbox.services.outbound import SendRefused, conversation_mark_read, media_store
from inbox.services.outbound import message_retry as retry_service
from inbox.services.outbound import message_send as send_service
from inbox.together_selectors import unread_counts
from inbox.viewers import someone_else_replying
from inbox.views import display


def is_partial_request(request: HttpRequest) -> bool:
    return bool(request.htmx) or request.headers.get("X-Requested-With") == "fetch"


def signed_in(view: Callable) -> Callable:
    """`login_required` for pages; a 401 with `HX-Redirect` for scripted requests."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if is_partial_request(request):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = f"{reverse('login')}?next={reverse('home')}"
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper


def _conversation_or_404(request: HttpRequest, conversation_id: int) -> Conversation:
    conversation = display.conversation_get(user=request.user, conversation_id=conversation_id)
    if conversation is None:
        raise Http404(_("No such conversation."))
    return conversation


def _list_context(request: HttpRequest, *, open_id: int | None = None) -> dict:
    filters = display.ListFilters.from_query(request.GET)
    search = request.GET.get("q", "")[:100]
    page = display.conversation_page(
        user=request.user, view=filters.view, search=search, cursor=request.GET.get("cursor"), filters=filters
    )
    context = {"page": page, "view": filters.view, "filters": filters, "search": search, "open_id": open_id}
    if not request.GET.get("cursor"):
        # The tabs' counts follow the filters (the first page swaps them in out of band).
        context["tabs"] = display.list_tabs(user=request.user, filters=filters)
    return context


@dataclass(frozen=True)
class GuardedComposer(display.Composer):
    """A composer the guard closed: `code` says why (e.g. `identity_unconfirmed`) and `way_forward` links to
    where the agent can lift it (the contact's identity panel beside the thread, where the change is
    acknowledged)."""

    code: str = ""
    way_forward: str = ""


def composer_state(request: HttpRequest, conversation: Conversation, *, can_reply: bool | None = None):
    """The composer as `display` decides it (the window), closed with the guard's sentence when nothing
    may go to this customer now (a changed identity waits for an acknowledgement): said before anyone
    types, never after a send fails."""
    composer = display.composer_state(user=request.user, conversation=conversation, can_reply=can_reply)
    if not composer.can_send_templates:  # the person does not reply here: nothing to guard
        return composer
    refusal = outbound.conversation_refusal(conversation=conversation)
    if refusal is None:
        return composer
    return GuardedComposer(
        can_write=False,
        window=composer.window,
        reason=refusal.detail,
        can_send_templates=False,
        code=refusal.code,
        way_forward=f"#identity-{conversation.contact_id}",
    )


def messages_for_display(messages: list[Message]) -> list[Message]:
    """Bubbles also say why a queued message waits (the messaging limit, the pacing) and until when."""
    outbound.dress_waiting(messages)
    return messages


def _thread_context(request: HttpRequest, conversation: Conversation, *, can_reply: bool) -> dict:
    messages_page = display.message_page(conversation=conversation)
    messages_for_display(messages_page.messages)
    return {
        "conversation": conversation,
        "contact": conversation.contact,
        "messages_page": messages_page,
        "composer": composer_state(request, conversation, can_reply=can_reply),
        "can_reply": can_reply,
        "previous": display.previous_conversations(user=request.user, conversation=conversation),
        "workflow": display.workflow_header(user=request.user, conversation=conversation, refresh=False),
    }


def _mark_read(user: User, conversation: Conversation, *, can_reply: bool) -> None:
    """Opening a conversation reads it. Only people who answer mark it read: a manager looking in must not
    send the customer blue ticks or clear the agents' unread badge."""
    if can_reply and conversation.unread_count:
        conversation_mark_read(conversation=conversation, user=user)


# Pages


@signed_in
@require_GET
@vary_on_headers("HX-Request")
def inbox_page(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    """`/` and `/conversations/<id>/`. An htmx click on a row gets only the thread pane (plus the row,
    out of band, with its badge cleared); a typed URL, a reload or history restore gets the whole page."""
    # Read before the panes: an event committed while they render is then replayed (harmless, idempotent)
    # rather than missed.
    last_seq = LiveEvent.objects.aggregate(last=Max("id"))["last"] or 0
    conversation = _conversation_or_404(request, conversation_id) if conversation_id else None
    can_reply = conversation is not None and access.can_reply(request.user, conversation)
    if conversation is not None:
        _mark_read(request.user, conversation, can_reply=can_reply)
        notifications_mark_read_for_conversation(user=request.user, conversation=conversation)
    if conversation is not None and request.htmx and not request.htmx.history_restore_request:
        context = _thread_context(request, conversation, can_reply=can_reply)
        context["oob_row"] = True
        return render(request, "inbox/_thread.html", context)
    context = _list_context(request, open_id=conversation.pk if conversation else None)
    if conversation is not None:
        context.update(_thread_context(request, conversation, can_reply=can_reply))
    context["last_seq"] = last_seq
    context["unread_counts"] = unread_counts(request.user)
    return render(request, "inbox/inbox.html", context)


# Partials


@signed_in
@require_GET
def conversation_rows(request: HttpRequest) -> HttpResponse:
    """A page of list rows: a new tab or search (first page) or the next page (`cursor`)."""
    open_id = request.GET.get("open")
    context = _list_context(request, open_id=int(open_id) if open_id and open_id.isdigit() else None)
    context["oob_counts"] = True  # the tabs' counts and saved views follow the filters, out of band
    return render(request, "inbox/_conversation_rows.html", context)


@signed_in
@require_GET
def conversation_row(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(request, conversation_id)
    if "view" in request.GET and not display.matches_filters(
        user=request.user, conversation=conversation, filters=display.ListFilters.from_query(request.GET)
    ):
        # It no longer belongs in the list as filtered (taken, resolved, relabelled...): the page drops it.
        return HttpResponse(status=204)
    open_id = request.GET.get("open")
    return render(
        request,
        "inbox/_conversation_row.html",
        {"conversation": conversation, "open_id": int(open_id) if open_id and open_id.isdigit() else None},
    )


@signed_in
@require_GET
def conversation_messages(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Older messages, loaded when the top of the thread scrolls into view."""
    conversation = _conversation_or_404(request, conversation_id)
    page = display.message_page(conversation=conversation, before=request.GET.get("before"))
    messages_for_display(page.messages)
    return render(
        request,
        "inbox/_messages.html",
        {
            "conversation": conversation,
            "messages_page": page,
            "can_reply": access.can_reply(request.user, conversation),
        },
    )


@signed_in
@require_GET
def message_bubble(request: HttpRequest, message_id: int) -> HttpResponse:
    """One bubble, as the thread shows it. For a reaction, edit or deletion: the bubble it changes."""
    message = display.message_for_display(user=request.user, message_id=message_id)
    if message is None:
        raise Http404(_("No such message."))
    messages_for_display([message])
    return render(
        request,
        "inbox/_bubble.html",
        {"message": message, "can_reply": access.can_reply(request.user, message.conversation)},
    )


@signed_in
@require_GET
def composer(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(request, conversation_id)
    return render(
        request,
        "inbox/_composer.html",
        {
            "conversation": conversation,
            "composer": composer_state(request, conversation),
        },
    )


# Actions


def _refusal(request: HttpRequest, conversation: Conversation, refused: SendRefused, status: int) -> JsonResponse:
    """A refused send, for the composer to show where the person tried (never a silent failure). When only a
    template may go out now, the answer carries the composer in its closed state to swap in."""
    body = {"code": refused.code, "detail": str(refused.detail)}
    if refused.requires_template or refused.code in ("window_closed", "identity_unconfirmed"):
        body["composer"] = render_to_string(
            "inbox/_composer.html",
            {
                "conversation": conversation,
                "composer": composer_state(request, conversation),
            },
            request=request,
        )
    return JsonResponse(body, status=status)


def _bubbles(request: HttpRequest, messages: list[Message], conversation: Conversation) -> HttpResponse:
    display.dress(messages, conversation=conversation)
    messages_for_display(messages)
    html = "".join(
        render_to_string("inbox/_bubble.html", {"message": m, "can_reply": True}, request=request) for m in messages
    )
    return HttpResponse(html, status=201)


@signed_in
@require_POST
def message_send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The composer: text, or one attachment with an optional caption, optionally replying to a message.
    The outbound service checks the file (type, size, content) and WhatsApp's rules; a refusal answers 4xx
    with its code and sentence."""
    conversation = _conversation_or_404(request, conversation_id)
    if not access.can_reply(request.user, conversation):
        return _refusal(request, conversation, SendRefused("permission_denied", _("Managers cannot reply.")), 403)
    body = request.POST.get("body", "").strip()
    upload = request.FILES.get("attachment")
    if not body and upload is None:
        return _refusal(request, conversation, SendRefused("empty", _("Write a message or attach a file first.")), 400)
    if request.POST.get("claim_check") and not request.POST.get("force"):
        # The soft claim: someone else is typing here or just replied. The composer confirms, then forces.
        other = someone_else_replying(conversation_id=conversation.pk, user=request.user)
        if other is not None:
            detail = _("%(name)s is replying to this customer. Send anyway?") % {"name": other.name or other.email}
            return JsonResponse({"code": "someone_else_replying", "detail": detail, "name": other.name}, status=409)
    reply_to = None
    if request.POST.get("reply_to", "").isdigit():
        reply_to = Message.objects.filter(conversation=conversation, pk=int(request.POST["reply_to"])).first()
    sent: list[Message] = []
    try:
        if upload is None:
            sent.append(
                send_service(
                    conversation=conversation,
                    author=request.user,
                    kind="text",
                    payload={"body": body},
                    reply_to=reply_to,
                )
            )
        else:
            media = media_store(conversation=conversation, author=request.user, upload=upload)
            # WhatsApp shows no caption under audio or stickers: the text then goes as its own message.
            captioned = media.kind in ("image", "video", "document")
            payload = {"media_file_id": media.pk, **({"caption": body} if body and captioned else {})}
            sent.append(
                send_service(
                    conversation=conversation, author=request.user, kind="media", payload=payload, reply_to=reply_to
                )
            )
            if body and not captioned:
                sent.append(
                    send_service(conversation=conversation, author=request.user, kind="text", payload={"body": body})
                )
    except SendRefused as refused:
        if sent:
            return _bubbles(request, sent, conversation)
        status = 413 if refused.code == "media_too_large" else 409
        return _refusal(request, conversation, refused, status)
    return _bubbles(request, sent, conversation)


@signed_in
@require_POST
def message_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    message = display.message_for_display(user=request.user, message_id=message_id)
    if message is None:
        raise Http404(_("No such message."))
    conversation = message.conversation
    if not access.can_reply(request.user, conversation):
        return _refusal(request, conversation, SendRefused("permission_denied", _("Managers cannot reply.")), 403)
    try:
        retried = retry_service(message=message, author=request.user)
    except SendRefused as refused:
        return _refusal(request, conversation, refused, 409)
    response = _bubbles(request, [retried], conversation)
    response.status_code = 200
    return response


@signed_in
@require_POST
def conversation_read(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The open thread got a new message while the person was looking at it."""
    conversation = _conversation_or_404(request, conversation_id)
    _mark_read(request.user, conversation, can_reply=access.can_reply(request.user, conversation))
    return HttpResponse(status=204)


# Templates: the composer's picker, the form for one template, sending it


def posted_id(value: str) -> int | None:
    """An id from a form field or query, or None when it is not one (a 20-digit number included)."""
    return int(value) if value.isdigit() and len(value) < 19 else None


def _template_refusal(refused: SendRefused) -> JsonResponse:
    """A refused template, for the form to say why next to what was typed (which it keeps)."""
    status = {"permission_denied": 403, "media_too_large": 413}.get(refused.code, 409)
    return JsonResponse({"code": refused.code, "detail": str(refused.detail)}, status=status)


def _replier_or_403(request: HttpRequest, conversation_id: int) -> Conversation:
    conversation = _conversation_or_404(request, conversation_id)
    if not access.can_reply(request.user, conversation):
        raise PermissionDenied(_("Managers read conversations; agents and admins send templates."))
    return conversation


@signed_in
@require_GET
def template_picker(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The picker's list: the templates the person may send here, the contact's language first."""
    conversation = _replier_or_403(request, conversation_id)
    context = picker_context(request, conversation)
    context["conversation"] = conversation
    return render(request, "inbox/_template_picker.html", context)


def picker_context(request: HttpRequest, conversation: Conversation) -> dict:
    """The picker's choices, each with the guard's refusal when this customer cannot get it now (opted out
    of or no consent for its category outside the window, number restricted, limit reached): the picker
    shows the sentence instead of letting the agent fill the template in."""
    context = display.template_picker(user=request.user, conversation=conversation)
    refusals = outbound.template_refusals(
        conversation=conversation, templates=[choice.template for choice in context["choices"]]
    )
    context["choice_rows"] = [(choice, refusals.get(choice.template.pk)) for choice in context["choices"]]
    context["all_unavailable"] = bool(refusals) and len(refusals) == len(context["choices"])
    return context


@signed_in
@require_GET
def template_form(request: HttpRequest, conversation_id: int, template_id: int) -> HttpResponse:
    """One template's form: its variables (prefilled from the contact), its header file, the live preview."""
    conversation = _replier_or_403(request, conversation_id)
    template = display.template_sendable(user=request.user, conversation=conversation, template_id=template_id)
    if template is None:
        raise Http404(_("This template cannot be sent here."))
    context = display.template_form(template=template, contact=conversation.contact)
    context.update(conversation=conversation, send_url=reverse("inbox:template-send", args=[conversation.pk]))
    context["refusal"] = outbound.template_refusals(conversation=conversation, templates=[template]).get(template.pk)
    return render(request, "inbox/_template_form.html", context)


@signed_in
@require_POST
def template_send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Send the template form: 201 with the queued message's bubble (like a reply), or 4xx with the code
    and the sentence the form shows (`template_not_sendable`, `template_parameters_invalid`...)."""
    conversation = _conversation_or_404(request, conversation_id)
    if not access.can_reply(request.user, conversation):
        return _template_refusal(SendRefused("permission_denied", _("Managers cannot reply.")))
    template_id = posted_id(request.POST.get("template_id", ""))
    if template_id is None:
        return _template_refusal(SendRefused("invalid_message", _("Choose a template first.")))
    try:
        message = contacts_service.template_send(
            conversation=conversation,
            author=request.user,
            template_id=template_id,
            values=display.template_values_from(request.POST),
            header_media=request.FILES.get("header_media"),
        )
    except SendRefused as refused:
        return _template_refusal(refused)
    return _bubbles(request, [message], conversation)
