import json

import pytest

from inbox.models import Conversation, Message, WebhookEvent
from inbox.providers.whatsapp_cloud.signature import sign
from tests.factories import TEST_APP_SECRET, ChannelFactory

pytestmark = pytest.mark.django_db


def test_signed_text_delivery_becomes_a_conversation(client, django_capture_on_commit_callbacks):
    channel = ChannelFactory(phone_number_id="106540352242922")
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "419561257915477",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": "106540352242922",
                                },
                                "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                                "messages": [
                                    {
                                        "from": "16505551234",
                                        "id": "wamid.A",
                                        "timestamp": "1749416383",
                                        "type": "text",
                                        "text": {"body": "Hi"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/whatsapp",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": sign(TEST_APP_SECRET, body)},
        )
    assert response.status_code == 200
    assert WebhookEvent.objects.get().state == "processed"
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.contact.profile_name == "Sheena Nelson"
    assert conversation.unread_count == 1
    assert Message.objects.get().text == "Hi"
