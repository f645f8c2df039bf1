"""The contact page (`/contacts/<id>/`): who the customer is, the language their templates are offered in,
their conversations on every number the viewer sees, and "Start a conversation" (a number, then a template
from the same picker and form as the composer).

Thin shells like `inbox.views.inbox`: whatever is out of the person's sight answers 404; people who may
not write (managers) get the page read-only and 403 from the actions.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from inbox import access
from inbox.models import Channel, Contact, Conversation
from inbox.services import contacts as contacts_service
from inbox.services import outbound
from inbox.services.outbound import SendRefused
from inbox.views import display
from inbox.views.inbox import _template_refusal, picker_context, posted_id, signed_in


def _contact_or_404(request: HttpRequest, contact_id: int) -> Contact:
    contact = display.contact_get(user=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404(_("No such contact."))
    return contact


def _language_context(request: HttpRequest, contact: Contact) -> dict:
    return {
        "contact": contact,
        "languages": display.template_languages(user=request.user, contact=contact),
        "can_edit": access.can_edit_contact(request.user, contact),
    }


@signed_in
@require_GET
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact_or_404(request, contact_id)
    context = _language_context(request, contact)
    context.update(
        conversations=display.contact_conversations(user=request.user, contact=contact),
        start_channels=list(display.start_channels(request.user)),
    )
    return render(request, "inbox/contact.html", context)


@signed_in
@require_POST
def contact_language(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The language select (htmx): answers the form again, saying it was saved or why not."""
    contact = _contact_or_404(request, contact_id)
    context = _language_context(request, contact)
    try:
        contacts_service.contact_language_set(
            contact=contact, actor=request.user, language=request.POST.get("language", "")[:16]
        )
    except contacts_service.ContactRefused as refused:
        context["error"] = refused.detail
        status = 403 if refused.code == "permission_denied" else 400
        return render(request, "inbox/_contact_language.html", context, status=status)
    context["saved"] = True
    return render(request, "inbox/_contact_language.html", context)


def _start_on(request: HttpRequest, contact: Contact) -> Conversation:
    """The conversation a start would send in, as it would be opened (unsaved) on the chosen number
    (`channel`, else the person's first): what the picker and the form are judged on. 403 for people who
    may write from no number, 404 for a number they may not write from."""
    channels = display.start_channels(request.user)
    if not channels.exists():
        raise PermissionDenied(_("Managers read contacts; agents and admins write to customers."))
    channel_id = request.GET.get("channel")
    channel = channels.first() if channel_id is None else channels.filter(pk=posted_id(channel_id) or 0).first()
    if channel is None:
        raise Http404(_("Choose one of your WhatsApp numbers."))
    return Conversation(channel=channel, contact=contact)


@signed_in
@require_GET
def contact_templates(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The picker for a first message from the chosen number (`?channel=<id>`)."""
    contact = _contact_or_404(request, contact_id)
    conversation = _start_on(request, contact)
    context = picker_context(request, conversation)
    context["start"] = True
    return render(request, "inbox/_template_picker.html", context)


@signed_in
@require_GET
def contact_template_form(request: HttpRequest, contact_id: int, template_id: int) -> HttpResponse:
    contact = _contact_or_404(request, contact_id)
    conversation = _start_on(request, contact)
    template = display.template_sendable(user=request.user, conversation=conversation, template_id=template_id)
    if template is None:
        raise Http404(_("This template cannot be sent from this number."))
    context = display.template_form(template=template, contact=contact)
    context.update(start=True, channel=conversation.channel, send_url=reverse("inbox:contact-start", args=[contact.pk]))
    context["refusal"] = outbound.template_refusals(conversation=conversation, templates=[template]).get(template.pk)
    return render(request, "inbox/_template_form.html", context)


@signed_in
@require_POST
def contact_start(request: HttpRequest, contact_id: int) -> JsonResponse:
    """Send the first template: 201 with the conversation's address (the page goes there), or 4xx with the
    code and the sentence the form shows; a refused template opens no conversation."""
    contact = _contact_or_404(request, contact_id)
    channel = Channel.objects.filter(pk=posted_id(request.POST.get("channel", "")) or 0).first()
    template_id = posted_id(request.POST.get("template_id", ""))
    if channel is None or template_id is None:
        return _template_refusal(SendRefused("invalid_message", _("Choose a number and a template first.")))
    try:
        message = contacts_service.conversation_start(
            contact=contact,
            channel=channel,
            author=request.user,
            template_id=template_id,
            values=display.template_values_from(request.POST),
            header_media=request.FILES.get("header_media"),
        )
    except SendRefused as refused:
        return _template_refusal(refused)
    url = reverse("inbox:conversation", args=[message.conversation_id])
    return JsonResponse({"conversation_id": message.conversation_id, "url": url}, status=201)
