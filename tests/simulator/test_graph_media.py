"""Media on the simulated Graph API: upload, look up, download with the token, delete (§4)."""

import hashlib

import pytest

from simulator.models import SimulatedMedia
from tests.factories import ChannelFactory
from tests.simulator.conftest import GRAPH_BASE

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0" + b"simulated jpeg bytes" * 10


def test_upload_get_download_delete(graph, client, channel, settings):
    uploaded = graph.upload(JPEG, mime_type="image/jpeg", name="photo.jpg")
    assert uploaded.status_code == 200
    media_id = uploaded.json()["id"]
    assert media_id.isdigit()
    assert set(uploaded.json()) == {"id"}

    info = graph.get(f"/simulator/graph/v23.0/{media_id}")
    assert info.status_code == 200
    assert list(info.json()) == ["url", "mime_type", "sha256", "file_size", "id", "messaging_product"]
    assert info.json()["mime_type"] == "image/jpeg"
    assert info.json()["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert info.json()["file_size"] == len(JPEG)
    assert isinstance(info.json()["file_size"], int)
    assert info.json()["id"] == media_id
    assert info.json()["messaging_product"] == "whatsapp"
    # Meta escapes slashes in its JSON: the raw bytes carry `http:\/\/`.
    assert b'"url":"http:\\/\\/testserver\\/simulator\\/lookaside\\/' in info.content
    url = info.json()["url"]
    assert url.startswith("http://testserver/simulator/lookaside/whatsapp_business/attachments/?mid=")

    downloaded = client.get(url, headers={"Authorization": "Bearer test-access-token"})
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == JPEG
    assert downloaded["Content-Type"] == "image/jpeg"

    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert (
        client.get(url.replace("hash=", "hash=0"), headers={"Authorization": "Bearer test-access-token"}).status_code
        == 404
    )
    assert SimulatedMedia.objects.get(media_id=media_id).file.name.startswith("simulator/")
    assert str(settings.MEDIA_ROOT) in SimulatedMedia.objects.get(media_id=media_id).file.path

    deleted = graph.delete(f"/simulator/graph/v23.0/{media_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True}
    gone = graph.get(f"/simulator/graph/v23.0/{media_id}")
    assert gone.status_code == 400
    assert gone.json()["error"]["error_subcode"] == 33
    assert client.get(url, headers={"Authorization": "Bearer test-access-token"}).status_code == 404


def test_media_lookup_checks_the_token_and_the_phone_number_id(graph, channel):
    media_id = graph.upload(JPEG).json()["id"]
    assert graph.get(f"/simulator/graph/v23.0/{media_id}", token="wrong").status_code == 401
    wrong_number = graph.get(f"/simulator/graph/v23.0/{media_id}", phone_number_id="1")
    assert wrong_number.json()["error"]["error_subcode"] == 33
    right_number = graph.get(f"/simulator/graph/v23.0/{media_id}", phone_number_id=channel.phone_number_id)
    assert right_number.status_code == 200


def test_media_of_another_number_is_not_reachable_with_its_token(graph, client, channel):
    media_id = graph.upload(JPEG).json()["id"]
    other = ChannelFactory(graph_api_base=GRAPH_BASE, access_token="other-token")
    response = client.get(f"/simulator/graph/v23.0/{media_id}", headers={"Authorization": "Bearer other-token"})
    assert response.status_code == 401
    assert other.pk != channel.pk


@pytest.mark.parametrize(
    ("mime_type", "size", "code", "details"),
    [
        ("image/jpeg", 5 * 1024 * 1024 + 1, 131053, "image/jpeg files may be at most 5242880 bytes"),
        ("image/webp", 500 * 1024 + 1, 131053, "image/webp files may be at most 512000 bytes"),
        ("image/svg+xml", 10, 100, "Param file must be a file with one of the following types"),
    ],
)
def test_upload_limits(graph, mime_type, size, code, details):
    response = graph.upload(b"x" * size, mime_type=mime_type, name="f")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert details in error["error_data"]["details"]
    assert not SimulatedMedia.objects.exists()


def test_upload_needs_messaging_product_and_file(graph, client, channel):
    response = client.post(
        f"/simulator/graph/v23.0/{channel.phone_number_id}/media",
        {"type": "image/jpeg"},
        headers={"Authorization": "Bearer test-access-token"},
    )
    assert response.json()["error"]["error_data"]["details"] == "The parameter messaging_product is required."
    response = client.post(
        f"/simulator/graph/v23.0/{channel.phone_number_id}/media",
        {"messaging_product": "whatsapp"},
        headers={"Authorization": "Bearer test-access-token"},
    )
    assert response.json()["error"]["error_data"]["details"] == "The parameter file is required."


def test_the_mime_type_may_come_from_the_file_part(graph, client, channel):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/simulator/graph/v23.0/{channel.phone_number_id}/media",
        {
            "messaging_product": "whatsapp",
            "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4", content_type="application/pdf"),
        },
        headers={"Authorization": "Bearer test-access-token"},
    )
    assert response.status_code == 200
    assert SimulatedMedia.objects.get().mime_type == "application/pdf"
