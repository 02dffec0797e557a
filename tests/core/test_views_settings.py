"""tribu.core.views.settings: workspace settings, logo validation and deletion."""

import io

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tribu.core.models import AuditEvent, Workspace
from tribu.core.roles import Role

SETTINGS = reverse("core:settings", args=["acme"])


def image_bytes(format_name, size=(32, 32)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, format=format_name)
    return buffer.getvalue()


def form(**changes):
    data = {
        "name": "Acme",
        "timezone": "Europe/Paris",
        "language": "fr",
        "audit_digest": "weekly",
    }
    data.update(changes)
    return data


def test_settings_are_saved_and_audited(owner_client, workspace):
    response = owner_client.post(SETTINGS, form(name="Acme Corp", timezone="America/Montreal"))
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.timezone) == ("Acme Corp", "America/Montreal")
    event = AuditEvent.objects.get(action="workspace.updated")
    assert sorted(event.data["fields"]) == ["name", "timezone"]


def test_png_logo_is_stored_under_a_safe_name(owner_client, workspace):
    logo = SimpleUploadedFile("logo.html", image_bytes("PNG"), content_type="text/html")
    response = owner_client.post(SETTINGS, form(logo=logo))
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.logo.name.startswith("logos/acme-") and workspace.logo.name.endswith(".png")
    # The switcher shows it, and the file is served back as an image.
    page = owner_client.get("/w/acme/")
    assert f'src="{workspace.logo.url}"' in page.content.decode()
    served = owner_client.get(workspace.logo.url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"


def test_svg_logo_is_refused_with_a_reason(owner_client, workspace):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = owner_client.post(SETTINGS, form(logo=SimpleUploadedFile("logo.svg", svg)))
    assert response.status_code == 400
    assert "SVG logos are not accepted" in response.content.decode()
    workspace.refresh_from_db()
    assert not workspace.logo


def test_gif_big_and_broken_logos_are_refused(owner_client, workspace):
    gif = SimpleUploadedFile("logo.gif", image_bytes("GIF"))
    assert (
        "GIF images are not accepted"
        in owner_client.post(SETTINGS, form(logo=gif)).content.decode()
    )
    broken = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\nnot really")
    assert "not a readable image" in owner_client.post(SETTINGS, form(logo=broken)).content.decode()
    big = SimpleUploadedFile("logo.png", image_bytes("PNG") + b"\0" * (1024 * 1024))
    assert "the limit is 1 MB" in owner_client.post(SETTINGS, form(logo=big)).content.decode()


def test_unknown_time_zone_is_refused(owner_client, workspace):
    response = owner_client.post(SETTINGS, form(timezone="Mars/Olympus"))
    assert response.status_code == 400


def test_admin_edits_but_does_not_see_deletion(client_for, workspace, make_member):
    admin = client_for(make_member(workspace, Role.ADMIN))
    page = admin.get(SETTINGS).content.decode()
    assert "Delete this workspace" not in page
    assert admin.get(reverse("core:workspace_delete", args=["acme"])).status_code == 403


def test_delete_needs_the_slug_then_emails_owners(owner_client, workspace, make_member, caplog):
    second_owner = make_member(workspace, Role.OWNER)
    delete = reverse("core:workspace_delete", args=["acme"])
    response = owner_client.post(delete, {"confirm": "ACME"})
    assert response.status_code == 400
    assert Workspace.objects.filter(slug="acme").exists()
    with caplog.at_level("WARNING"):
        response = owner_client.post(delete, {"confirm": "acme"})
    assert response.status_code == 302
    assert not Workspace.objects.filter(slug="acme").exists()
    assert "workspace.deleted slug=acme" in caplog.text
    [message] = mail.outbox
    assert sorted(message.to) == sorted(["alice@example.com", second_owner.email])
