import pytest

from inbox.providers.whatsapp_cloud.errors import ErrorInfo, describe


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (131047, False),
        (131026, False),
        (100, False),
        (190, False),
        (130429, True),
        (131056, True),
        (131000, True),
        (131016, True),
        (80007, True),
        (132015, False),
        (250, False),
    ],
)
def test_retry_decisions(code, retryable):
    assert describe(code).retryable is retryable


def test_the_window_error_tells_the_agent_to_send_a_template():
    info = describe(131047)
    assert info == ErrorInfo(131047, info.reason, info.hint, False)
    assert info.reason == "More than 24 hours since the customer wrote: send a template."


def test_an_unreachable_number_says_so():
    assert describe(131026).reason.startswith("The number cannot receive WhatsApp messages")


def test_unknown_and_missing_codes_get_a_sentence_and_no_retry():
    unknown = describe(424242)
    assert "424242" in unknown.reason
    assert unknown.retryable is False
    assert describe(None).reason
    assert describe(None).retryable is False


def test_error_info_is_frozen():
    with pytest.raises(AttributeError):
        describe(131047).retryable = True
