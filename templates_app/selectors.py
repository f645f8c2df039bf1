"""Reads for the template pages and the API: the list with its filters, one template's revisions and
timeline, and how the messages sent with a template fared. Aggregate queries: the number of queries does
not grow with the number of templates, revisions or messages."""

from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery

from accounts.models import User
from inbox.models import Direction, Message, MessageStatus
from inbox.providers.whatsapp_cloud import errors
from templates_app import access, policy
from templates_app.models import MessageTemplate, RevisionState, TemplateEvent, TemplateRevision

_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.PLAYED)
_DELIVERED = (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.PLAYED)
_READ = (MessageStatus.READ, MessageStatus.PLAYED)

# The list's status filter: WhatsApp's statuses, plus templates WhatsApp has never seen.
NOT_SUBMITTED = "none"

TIMELINE_LENGTH = 100
REVISIONS_SHOWN = 30


# --- The list ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    status: str = ""
    category: str = ""
    language: str = ""
    search: str = ""
    # Only the templates with a revision waiting for this admin's approval (not one of their own).
    waiting_for: User | None = None


def _waiting_for(user: User) -> Q:
    """A revision waits for `user` when it is in review and someone else wrote it (four eyes)."""
    return Q(state=RevisionState.IN_REVIEW) & ~Q(author=user)


def template_list(*, user: User, filters: ListFilters = ListFilters()) -> QuerySet[MessageTemplate]:
    """The templates the person sees, filtered, each with the revision on its way (`open_number`,
    `open_state`) in the same query."""
    on_its_way = TemplateRevision.objects.filter(
        template=OuterRef("pk"), state__in=policy.OPEN_REVISION_STATES
    ).order_by("-number")
    templates = access.templates_visible_to(user).annotate(
        open_number=Subquery(on_its_way.values("number")[:1]),
        open_state=Subquery(on_its_way.values("state")[:1]),
    )
    if filters.status == NOT_SUBMITTED:
        templates = templates.filter(status="")
    elif filters.status:
        templates = templates.filter(status=filters.status)
    if filters.category:
        templates = templates.filter(category=filters.category)
    if filters.language:
        templates = templates.filter(language=filters.language)
    if filters.search:
        templates = templates.filter(name__icontains=filters.search.strip())
    if filters.waiting_for is not None:
        waiting = TemplateRevision.objects.filter(_waiting_for(filters.waiting_for), template=OuterRef("pk"))
        templates = templates.filter(Exists(waiting))
    return templates.order_by("name", "language", "pk")


def template_languages(*, user: User) -> list[str]:
    """The languages of the templates the person sees, for the list's filter."""
    return list(access.templates_visible_to(user).order_by("language").values_list("language", flat=True).distinct())


def waiting_for_approval_count(*, user: User) -> int:
    """How many templates wait for this admin's approval (0 for people who do not review)."""
    if not access.can_review_templates(user):
        return 0
    waiting = TemplateRevision.objects.filter(_waiting_for(user), template=OuterRef("pk"))
    return access.templates_visible_to(user).filter(Exists(waiting)).count()


# --- One template --------------------------------------------------------------------------------------------


def template_get(*, user: User, template_id: int) -> MessageTemplate | None:
    """The template with its live revision, or None when it does not exist or is out of the person's sight."""
    return (
        access.templates_visible_to(user).select_related("live_revision", "created_by").filter(pk=template_id).first()
    )


def template_revisions(template: MessageTemplate) -> list[TemplateRevision]:
    """The newest revisions first, with their author and reviewer."""
    return list(template.revisions.select_related("author", "reviewed_by").order_by("-number")[:REVISIONS_SHOWN])


def template_timeline(template: MessageTemplate) -> list[TemplateEvent]:
    """The newest entries of the timeline first, each with who made it and the revision it concerns."""
    return list(template.events.select_related("actor", "revision").order_by("-occurred_at", "-id")[:TIMELINE_LENGTH])


def template_analytics(template: MessageTemplate) -> dict:
    """How the messages sent with a template fared: sent (WhatsApp accepted them), delivered, read, replied,
    failed, with rates (delivered, read and replied over those sent; failed over all attempts), and the
    failures by error code with their plain-language reason. Two aggregate queries whatever the volume.

    A message counts as replied when the customer wrote in the same conversation after it and before the
    next message with the same template there (ingest keeps `replied_at`, see
    `ingest.template_messages_mark_replied`): a reminder sent three times and answered once is answered
    once, not three times."""
    messages = Message.objects.filter(template=template, direction=Direction.OUTBOUND)
    counts = messages.aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(status__in=_SENT)),
        delivered=Count("id", filter=Q(status__in=_DELIVERED)),
        read=Count("id", filter=Q(status__in=_READ)),
        replied=Count("id", filter=Q(replied_at__isnull=False)),
        failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
    )
    reached = counts["sent"] or 0
    failures = [
        {
            "error_code": row["error_code"],
            "reason": errors.failure_reason(row["error_code"], row["error_title"]),
            "count": row["count"],
        }
        for row in messages.filter(status=MessageStatus.FAILED)
        .values("error_code")
        .annotate(count=Count("id"), error_title=Max("error_title"))
        .order_by("-count", "error_code")[:20]
    ]
    return {
        **counts,
        "rates": {key: (counts[key] / reached if reached else None) for key in ("delivered", "read", "replied")},
        "failure_rate": counts["failed"] / counts["total"] if counts["total"] else None,
        "failures": failures,
    }
