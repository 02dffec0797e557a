from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings

from tribu.channels.networks.base import PublishError
from tribu.channels.networks.http import public_media_url


def stored(name, data=b"\x89PNG\r\n\x1a\nimage"):
    return default_storage.save(f"posts/2026/11/{name}", ContentFile(data))


@override_settings(TRIBU_BASE_URL="https://tribu.example.com")
def test_a_signed_address_serves_the_image(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = stored("photo.png")
    url = public_media_url({"path": path}, "Instagram")
    assert url.startswith("https://tribu.example.com/channels/media/")
    response = client.get(url.removeprefix("https://tribu.example.com"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@override_settings(TRIBU_BASE_URL="https://tribu.example.com")
def test_a_forged_or_tampered_address_is_a_404(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = stored("photo.png")
    url = public_media_url({"path": path}, "Instagram").removeprefix("https://tribu.example.com")
    assert client.get(url[:-2] + "xx").status_code == 404
    assert client.get("/channels/media/not-a-token").status_code == 404


@override_settings(TRIBU_BASE_URL="https://tribu.example.com")
def test_only_post_images_can_be_named(client, settings, tmp_path):
    from django.core import signing

    from tribu.channels.networks.http import MEDIA_LINK_SALT

    settings.MEDIA_ROOT = tmp_path
    default_storage.save("logos/secret.png", ContentFile(b"x"))
    token = signing.dumps("logos/secret.png", salt=MEDIA_LINK_SALT, compress=True)
    assert client.get(f"/channels/media/{token}").status_code == 404


@override_settings(TRIBU_BASE_URL="https://tribu.example.com")
def test_an_expired_address_is_a_404(client, settings, tmp_path, monkeypatch):
    import time

    settings.MEDIA_ROOT = tmp_path
    path = stored("photo.png")
    url = public_media_url({"path": path}, "Instagram").removeprefix("https://tribu.example.com")
    later = time.time() + 25 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(url).status_code == 404


@override_settings(TRIBU_BASE_URL="http://127.0.0.1:8000", TRIBU_ALLOW_PRIVATE_ADDRESSES=False)
def test_a_local_tribu_address_is_refused_with_an_explanation():
    try:
        public_media_url({"path": "posts/x.png"}, "Instagram")
    except PublishError as error:
        assert error.code == "no_public_address"
        assert "TRIBU_BASE_URL" in error.message
        assert not error.sent
    else:
        raise AssertionError("a local address was accepted")
