"""WhatsApp's number health and business profile values read into ours (inbox/providers/whatsapp_cloud/
health.py): every form whatsapp-cloud-api.md §6, §10 and §12 lists, without a database."""

from datetime import UTC, datetime

import pytest

from inbox.providers.whatsapp_cloud import health
from inbox.providers.whatsapp_cloud.health import BusinessProfile, MessagingLimit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("TIER_50", MessagingLimit(50, "TIER_50")),
        ("TIER_250", MessagingLimit(250, "TIER_250")),
        ("TIER_1K", MessagingLimit(1_000, "TIER_1K")),
        ("TIER_2K", MessagingLimit(2_000, "TIER_2K")),
        ("TIER_10K", MessagingLimit(10_000, "TIER_10K")),
        ("TIER_100K", MessagingLimit(100_000, "TIER_100K")),
        ("TIER_UNLIMITED", MessagingLimit(None, "TIER_UNLIMITED")),
        ("tier_2k", MessagingLimit(2_000, "TIER_2K")),
        ("TIER_5K", MessagingLimit(5_000, "TIER_5K")),
        (2000, MessagingLimit(2_000, "TIER_2K")),
        (250, MessagingLimit(250, "TIER_250")),
        (100000, MessagingLimit(100_000, "TIER_100K")),
        (-1, MessagingLimit(None, "TIER_UNLIMITED")),
        ("-1", MessagingLimit(None, "TIER_UNLIMITED")),
        ("10000", MessagingLimit(10_000, "TIER_10K")),
        (1234, MessagingLimit(1_234, "")),
        (2000.0, MessagingLimit(2_000, "TIER_2K")),
        # Nothing to read: the caller keeps the limit it has.
        ("TIER_NOT_SET", None),
        (None, None),
        ("", None),
        (0, None),
        (-5, None),
        (True, None),
        ("lots", None),
        ({"tier": "TIER_2K"}, None),
    ],
)
def test_messaging_limits_in_every_form(value, expected):
    assert health.messaging_limit(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("GREEN", "green"), ("YELLOW", "yellow"), ("RED", "red"), ("NA", "unknown"), ("UNKNOWN", "unknown"),
     ("green", "green"), ("HIGH", "green"), ("PURPLE", None), (None, None), (3, None)],
)  # fmt: skip
def test_quality_ratings(value, expected):
    assert health.quality_rating(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("CONNECTED", "connected"), ("DISCONNECTED", "offline"), ("UNVERIFIED", "offline"), ("PENDING", "pending"),
     ("FLAGGED", "flagged"), ("RESTRICTED", "restricted"), ("connected", "connected"), ("MIGRATED", None),
     (None, None)],
)  # fmt: skip
def test_number_statuses(value, expected):
    assert health.number_status(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"level": "STANDARD"}, 80), ({"level": "HIGH"}, 1000), ({"level": "NOT_APPLICABLE"}, None), ("HIGH", 1000),
     ({}, None), (None, None)],
)  # fmt: skip
def test_throughput_levels(value, expected):
    assert health.throughput(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1641330498, datetime(2022, 1, 4, 21, 8, 18, tzinfo=UTC)),
        ("1641330498", datetime(2022, 1, 4, 21, 8, 18, tzinfo=UTC)),
        (1641330498000, datetime(2022, 1, 4, 21, 8, 18, tzinfo=UTC)),
        ("2026-05-01T10:00:00Z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01T10:00:00", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("<TIMESTAMP>", None),
        (None, None),
        (True, None),
    ],
)
def test_restriction_expirations(value, expected):
    assert health.unix_time(value) == expected


def test_a_quality_update_prefers_the_portfolio_limit_and_reads_the_number_digits():
    update = health.quality_update(
        {
            "display_phone_number": "+1 555-093-4873",
            "event": "throughput_upgrade",
            "current_limit": "TIER_UNLIMITED",
            "max_daily_conversations_per_business": "TIER_2K",
        }
    )
    assert update == health.QualityUpdate(
        display_phone_number="15550934873", event="THROUGHPUT_UPGRADE", limit=MessagingLimit(2000, "TIER_2K"),
        previous_limit=None,
    )  # fmt: skip
    legacy = health.quality_update(
        {"display_phone_number": "15550934873", "event": "FLAGGED", "current_limit": "TIER_10K"}
    )
    assert legacy.limit == MessagingLimit(10_000, "TIER_10K")
    assert health.quality_update({"event": "ONBOARDING"}).limit is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25},
            MessagingLimit(2000, "TIER_2K"),
        ),
        (
            {"max_daily_conversations_per_business": "TIER_UNLIMITED", "max_phone_numbers_per_business": 2},
            health.UNLIMITED,
        ),
        ({"max_daily_conversation_per_phone": -1}, health.UNLIMITED),
        ({"max_daily_conversation_per_phone": 10000}, MessagingLimit(10_000, "TIER_10K")),
        ({"max_phone_numbers_per_waba": 25}, None),
    ],
)
def test_business_capability_limits(value, expected):
    assert health.capability_limit(value) == expected


def test_account_updates():
    restriction = health.account_update(
        {
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [
                {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": 1900000000},
                {"restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiration": "1950000000"},
            ],
        }
    )
    # Only the messaging restriction limits sends; its end is the number's.
    assert [r.restriction_type for r in restriction.messaging_restrictions] == ["RESTRICTED_BIZ_INITIATED_MESSAGING"]
    assert restriction.restricted_until == datetime.fromtimestamp(1900000000, tz=UTC)
    assert "RESTRICTED_BIZ_INITIATED_MESSAGING" in restriction.summary

    only_numbers = health.account_update(
        {
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [{"restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION"}],
        }
    )
    assert only_numbers.messaging_restrictions == ()

    open_ended = health.account_update(
        {
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [
                {"restriction_type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING", "expiration": "<TIMESTAMP>"}
            ],
        }
    )
    assert open_ended.messaging_restrictions and open_ended.restricted_until is None

    ban = health.account_update(
        {
            "event": "DISABLED_UPDATE",
            "ban_info": {"waba_ban_state": "SCHEDULE_FOR_DISABLE", "waba_ban_date": "April 17, 2025"},
        }
    )
    assert (ban.ban_state, ban.ban_date) == ("SCHEDULE_FOR_DISABLE", "April 17, 2025")
    violation = health.account_update({"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SCAM"}})
    assert violation.violation_type == "SCAM"
    assert health.account_update({"event": "VERIFIED_ACCOUNT"}).summary == "VERIFIED_ACCOUNT"


def test_account_alerts():
    alert = health.account_alert(
        {
            "entity_type": "PHONE_NUMBER",
            "entity_id": "106540352242922",
            "alert_info": {
                "alert_severity": "WARNING",
                "alert_status": "ACTIVE",
                "alert_type": "OBA_APPROVED",
                "alert_description": "Your number is close to its limit.",
            },
        }
    )
    assert alert == health.AccountAlert(
        "PHONE_NUMBER", "106540352242922", "WARNING", "ACTIVE", "OBA_APPROVED", "Your number is close to its limit."
    )
    assert health.account_alert({}).alert_type == ""


def test_the_phone_number_object():
    real = {
        "id": "107878721936019", "display_phone_number": "+1 555-093-4873", "verified_name": "Test Number",
        "quality_rating": "GREEN", "status": "DISCONNECTED", "messaging_limit_tier": "TIER_250",
        "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"},
    }  # fmt: skip
    assert health.phone_number_health(real) == health.PhoneNumberHealth(
        quality="green", status="offline", limit=MessagingLimit(250, "TIER_250"), throughput=80,
        display_phone_number="+1 555-093-4873", verified_name="Test Number",
    )  # fmt: skip
    # The current field wins over the deprecated tier, bare or as an object.
    newer = {**real, "whatsapp_business_manager_messaging_limit": "TIER_2K", "quality_rating": "NA"}
    assert health.phone_number_health(newer).limit == MessagingLimit(2000, "TIER_2K")
    assert health.phone_number_health(newer).quality == "unknown"
    nested = {**real, "whatsapp_business_manager_messaging_limit": {"current_limit": "TIER_10K"}}
    assert health.phone_number_health(nested).limit == MessagingLimit(10_000, "TIER_10K")
    assert health.phone_number_health({}) == health.PhoneNumberHealth(None, None, None, None)


PROFILE = {
    "about": "Fresh bread daily",
    "address": "1 Main St",
    "description": "A bakery",
    "email": "help@bakery.example",
    "profile_picture_url": "https://pps.whatsapp.net/v/p.jpg",
    "websites": ["https://bakery.example"],
    "vertical": "RESTAURANT",
    "messaging_product": "whatsapp",
}


@pytest.mark.parametrize("document", [{"data": [PROFILE]}, {"data": [{"business_profile": PROFILE}]}])
def test_the_business_profile_in_both_shapes(document):
    assert health.business_profile(document) == BusinessProfile(
        about="Fresh bread daily", address="1 Main St", description="A bakery", email="help@bakery.example",
        websites=("https://bakery.example",), vertical="RESTAURANT",
        profile_picture_url="https://pps.whatsapp.net/v/p.jpg",
    )  # fmt: skip


def test_an_empty_profile_and_an_undefined_industry():
    assert health.business_profile({"data": [{"vertical": "UNDEFINED"}]}) == BusinessProfile()
    assert health.business_profile({"data": []}) == BusinessProfile()


GOOD = BusinessProfile(about="Fresh bread daily", websites=("https://bakery.example",), vertical="RETAIL")


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"about": ""}, "about", "1 to 139"),
        ({"about": "x" * 140}, "about", "at most 139"),
        ({"description": "x" * 513}, "description", "at most 512"),
        ({"address": "x" * 257}, "address", "at most 256"),
        ({"email": "not an address"}, "email", "not an e-mail address"),
        ({"email": "a" * 120 + "@example.com"}, "email", "at most 128"),
        ({"websites": ("https://a.example", "https://b.example", "https://c.example")}, "websites", "at most 2"),
        ({"websites": ("ftp://files.example",)}, "websites", "http:// or https://"),
        ({"websites": ("https://" + "a" * 250 + ".example",)}, "websites", "at most 256"),
        ({"vertical": "SPACESHIPS"}, "vertical", "WhatsApp's list"),
    ],
)
def test_profile_limits_are_checked_before_sending(change, field, says):
    problems = health.profile_problems(BusinessProfile(**{**GOOD.__dict__, **change}))
    assert list(problems.by_field) == [field]
    assert says in problems.by_field[field]


def test_a_good_profile_and_the_limits_exactly():
    assert not health.profile_problems(GOOD)
    edge = BusinessProfile(
        about="x" * 139, description="d" * 512, address="a" * 256, email="e" * 116 + "@example.com",
        websites=("http://a.example", "https://b.example/" + "p" * 200), vertical="OTHER",
    )  # fmt: skip
    assert not health.profile_problems(edge)


def test_a_partial_change_checks_only_its_fields():
    assert not health.profile_problems(BusinessProfile(email="help@bakery.example"), only=frozenset({"email"}))


def test_the_update_body():
    assert health.profile_update_body(GOOD, picture_handle="4:abc") == {
        "messaging_product": "whatsapp",
        "about": "Fresh bread daily",
        "address": "",
        "description": "",
        "email": "",
        "websites": ["https://bakery.example"],
        "vertical": "RETAIL",
        "profile_picture_handle": "4:abc",
    }
    partial = health.profile_update_body(BusinessProfile(about="Hi"), only=frozenset({"about", "vertical"}))
    assert partial == {"messaging_product": "whatsapp", "about": "Hi"}


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (JPEG, None),
        (PNG, None),
        (b"GIF89a" + b"\x00" * 10, "JPEG or PNG"),
        (b"", "empty"),
        (JPEG + b"\x00" * (5 * 1024 * 1024), "at most 5 MB"),
    ],
)
def test_profile_photos(content, problem):
    found = health.photo_problem(content)
    assert (found is None) if problem is None else (problem in found)
    assert health.photo_type(JPEG) == "image/jpeg" and health.photo_type(PNG) == "image/png"
