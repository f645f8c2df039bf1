"""Template rules as tables, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from templates_app import policy

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "has_live_revision", "sendable", "says"),
    [
        ("APPROVED", True, True, ""),
        ("FLAGGED", True, True, ""),
        ("REINSTATED", True, True, ""),
        ("APPROVED", False, False, "has not approved"),
        ("", False, False, "has not approved"),
        ("PENDING", False, False, "has not approved"),
        ("REJECTED", False, False, "has not approved"),
        ("PAUSED", True, False, "paused"),
        ("DISABLED", True, False, "disabled"),
        ("IN_APPEAL", True, False, "has not approved"),
        ("PENDING_DELETION", True, False, "has not approved"),
        ("DELETED", True, False, "has not approved"),
        ("LOCKED", True, False, "has not approved"),
        ("LIMIT_EXCEEDED", True, False, "has not approved"),
    ],
)
def test_only_templates_whatsapp_approved_are_sendable(status, has_live_revision, sendable, says):
    answer = policy.sendability(status=status, has_live_revision=has_live_revision)
    assert answer.sendable is sendable
    assert says in answer.why_not


@pytest.mark.parametrize(
    ("status", "open_state", "allowed", "says"),
    [
        ("", None, True, ""),
        ("", "draft", True, ""),
        ("APPROVED", None, True, ""),
        ("REJECTED", None, True, ""),
        ("PAUSED", None, True, ""),
        ("APPROVED", "changes_requested", True, ""),
        ("APPROVED", "in_review", False, "already being reviewed"),
        ("APPROVED", "submitted", False, "already being reviewed"),
        ("DISABLED", None, False, "disabled template"),
        ("PENDING", None, False, "only allows editing"),
        ("FLAGGED", None, False, "only allows editing"),
        ("IN_APPEAL", None, False, "only allows editing"),
    ],
)
def test_what_can_be_edited(status, open_state, allowed, says):
    answer, why_not = policy.may_edit(status=status, open_revision_state=open_state)
    assert answer is allowed
    assert says in why_not


@pytest.mark.parametrize(
    ("reviewer_id", "is_admin", "author_id", "allowed", "says"),
    [
        (2, True, 1, True, ""),
        (1, True, 1, False, "Another admin"),
        (2, False, 1, False, "Only admins"),
        (2, True, None, True, ""),
    ],
)
def test_four_eyes(reviewer_id, is_admin, author_id, allowed, says):
    answer, why_not = policy.may_review(reviewer_id=reviewer_id, reviewer_is_admin=is_admin, author_id=author_id)
    assert answer is allowed
    assert says in why_not


def test_a_flagged_template_is_disabled_seven_days_later_unless_whatsapp_names_the_date():
    flagged = NOW - timedelta(days=2)
    assert policy.disabled_by(flagged_at=flagged, disable_at=None) == flagged + timedelta(days=7)
    named = NOW + timedelta(days=3)
    assert policy.disabled_by(flagged_at=flagged, disable_at=named) == named
    assert policy.disabled_by(flagged_at=None, disable_at=None) is None


@pytest.mark.parametrize(
    ("deadline", "left"),
    [
        (NOW + timedelta(days=5, hours=3), timedelta(days=5, hours=3)),
        (NOW, timedelta(0)),
        (NOW - timedelta(hours=1), timedelta(0)),
        (None, None),
    ],
)
def test_time_left_never_goes_negative(deadline, left):
    assert policy.time_left(deadline, now=NOW) == left


@pytest.mark.parametrize(
    ("occurred", "last", "newer"),
    [
        (NOW, None, True),
        (None, NOW, True),
        (NOW, NOW, True),
        (NOW + timedelta(seconds=1), NOW, True),
        (NOW - timedelta(seconds=1), NOW, False),
    ],
)
def test_late_webhooks_do_not_undo_newer_changes(occurred, last, newer):
    assert policy.is_newer(occurred, last_applied_at=last) is newer
