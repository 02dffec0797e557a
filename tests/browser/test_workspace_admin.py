"""Running a workspace in a real browser: its settings (name, time zone, logo), the audit log
with its filter and CSV export, API tokens, roles and removal on the team page, and the
deletion of the workspace."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tribu.api.models import ApiToken
from tribu.core.models import Membership, Workspace
from tribu.core.roles import Role
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email="alice@example.com"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def png_logo():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (21, 128, 61)).save(buffer, format="PNG")
    return {"name": "logo.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


SVG_LOGO = {
    "name": "logo.svg",
    "mimeType": "image/svg+xml",
    "buffer": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
}


@pytest.fixture
def acme(make_user, make_workspace):
    alice = make_user("alice@example.com", name="Alice")
    return make_workspace(slug="acme", name="Acme", owner=alice)


def test_settings_then_the_audit_log_and_its_csv(page, live_server, acme):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.wait_for_url(re.compile(r"/w/acme/settings/$"))
    expect(page.locator("h1")).to_have_text("Workspace settings")

    # An SVG logo is refused, with the reason and the way out.
    page.get_by_label("Logo").set_input_files(SVG_LOGO)
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_text(
            "SVG logos are not accepted because they can contain scripts. Export it as PNG."
        )
    ).to_be_visible()
    assert not Workspace.objects.get(slug="acme").logo

    # Name, time zone and a PNG logo, saved together.
    page.get_by_label("Name").fill("Acme Studio")
    page.get_by_label("Time zone").select_option("America/Montreal")
    page.get_by_label("Logo").set_input_files(png_logo())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    workspace = Workspace.objects.get(slug="acme")
    assert (workspace.name, workspace.timezone) == ("Acme Studio", "America/Montreal")
    # The new name and the logo show in the workspace switcher, and the logo really loads.
    switcher = page.locator(".switcher summary")
    expect(switcher).to_have_text("Acme Studio")
    logo = switcher.locator("img.switcher-logo")
    expect(logo).to_have_attribute("src", re.compile(r"/media/logos/acme-[0-9a-f]+\.png$"))
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 64", arg=logo.element_handle()
    )

    # The audit log, filtered on workspace events, tells what just happened, in the new
    # time zone.
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(re.compile(r"/w/acme/audit/$"))
    expect(page.get_by_text("Times are in America/Montreal.")).to_be_visible()
    page.get_by_label("Show").select_option(label="Workspace")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"action=workspace\."))
    sentences = page.locator("table.audit tbody tr td:nth-child(3)")
    expect(sentences.first).to_contain_text(
        "alice@example.com changed the workspace settings (name, time zone, logo)."
    )
    expect(sentences.last).to_contain_text("created the workspace")
    expect(page.get_by_text("signed in.")).to_have_count(0)  # security events filtered out

    # The CSV link downloads the same events, with a header line.
    href = page.get_by_role("link", name="Download CSV").get_attribute("href")
    assert href.endswith("/w/acme/audit.csv?action=workspace.")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="audit-acme-workspace.csv"' in response.headers["content-disposition"]
    lines = response.text().splitlines()
    assert lines[0] == "time,actor,action,description,target,IP address,user agent"
    assert any("workspace.updated" in line for line in lines[1:])


def test_api_tokens_are_shown_once_then_revoked(page, live_server, acme):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/")
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url(re.compile(r"/w/acme/tokens/$"))
    expect(page.get_by_text("You have no active token in this workspace.")).to_be_visible()

    create = page.get_by_role("region", name="Create a token")
    create.get_by_label("Name").fill("Weekly report")
    create.get_by_label("Role").select_option("viewer")
    create.get_by_role("button", name="Create the token").click()
    new = page.get_by_role("status").filter(has_text="Token “Weekly report” created")
    expect(new).to_be_visible()
    raw = new.locator("#new-token-value").inner_text().strip()
    token = ApiToken.objects.get(name="Weekly report")
    assert raw.startswith(token.prefix) and len(raw) > len(token.prefix) + 16
    expect(new.get_by_role("button", name="Copy the token")).to_be_visible()
    mine = page.get_by_role("region", name="Your tokens")
    expect(mine.get_by_role("cell", name="Weekly report", exact=True)).to_be_visible()
    expect(mine.get_by_role("cell", name="Viewer", exact=True)).to_be_visible()

    # Shown once: a reload does not show it again.
    page.goto(f"{live_server.url}/w/acme/tokens/")
    expect(page.get_by_text(raw)).to_have_count(0)

    # Revoking asks for confirmation first.
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Revoke “Weekly report”").click()
    expect(page.get_by_text("Token “Weekly report” revoked: it no longer works.")).to_be_visible()
    assert dialogs == ["Revoke the token “Weekly report”? Scripts using it will stop working."]
    expect(page.get_by_text("You have no active token in this workspace.")).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_changing_a_role_and_removing_a_member(page, live_server, acme, make_member, make_user):
    bob = make_member(acme, Role.EDITOR, make_user("bob@example.com", name="Bob"))
    make_member(acme, Role.EDITOR, make_user("carol@example.com", name="Carol"))
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/members/")

    page.get_by_label("Role of Bob").select_option("viewer")
    page.get_by_role("row", name=re.compile("Bob")).get_by_role(
        "button", name="Change role"
    ).click()
    expect(page.get_by_text("Bob is now Viewer.")).to_be_visible()
    expect(page.get_by_label("Role of Bob")).to_have_value("viewer")
    assert Membership.objects.get(workspace=acme, user=bob).role == Role.VIEWER

    # Removing asks first; dismissing keeps Carol, accepting removes her.
    answers = iter([False, True])
    messages = []

    def answer(dialog):
        messages.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    carol_row = page.get_by_role("row", name=re.compile("Carol"))
    carol_row.get_by_role("button", name="Remove").click()
    expect(carol_row).to_be_visible()
    assert Membership.objects.filter(workspace=acme, user__name="Carol").exists()
    carol_row.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Carol no longer has access to this workspace.")).to_be_visible()
    expect(page.locator("table.members").get_by_text("Carol")).to_have_count(0)
    assert messages == ["Remove Carol from this workspace?"] * 2
    assert not Membership.objects.filter(workspace=acme, user__name="Carol").exists()


def test_deleting_the_workspace(page, live_server, acme):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/settings/")
    page.get_by_role("link", name="Delete this workspace…").click()
    page.wait_for_url(re.compile(r"/w/acme/delete/$"))
    expect(page.locator("h1")).to_have_text("Delete Acme")

    # The name is not the address: refused, with what to type.
    confirm = page.get_by_label("Type the workspace address to confirm")
    confirm.fill("Acme")
    page.get_by_role("button", name="Delete for good").click()
    expect(
        page.get_by_text("This is not the workspace address. Type “acme” exactly.")
    ).to_be_visible()
    assert Workspace.objects.filter(slug="acme").exists()

    page.get_by_label("Type the workspace address to confirm").fill("acme")
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_text("The workspace “Acme” was deleted.")).to_be_visible()
    assert not page.url.endswith("/w/acme/delete/")
    assert not Workspace.objects.filter(slug="acme").exists()
    assert page.goto(f"{live_server.url}/w/acme/").status == 404
