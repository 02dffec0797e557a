"""The CSV import page: upload, the row-by-row report, the preview, the confirmation (the
file kept on the server between the two), roles, and the example file."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tribu.channels.models import Channel, ChannelState
from tribu.core.roles import Role
from tribu.publishing.models import Delivery, Post, PostStatus, PublishingSettings
from tribu.publishing.services.csv_import import parse
from tribu.publishing.views.csv_import import SESSION_KEY

NOW = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def mastodon(workspace):
    return Channel.objects.create(
        workspace=workspace, network="mastodon", name="Acme Mastodon",
        base_url="https://mastodon.example", account_id="1",
    )  # fmt: skip


def url(workspace, name="import"):
    return reverse(f"publishing:{name}", args=[workspace.slug])


def csv_file(*rows, header=("text", "publish_at", "channels"), name="posts.csv"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


GOOD = [
    ("Lundi", "2025-03-10 09:00", "Acme Mastodon"),
    ("Mardi", "2025-03-11 12:30", "Acme Mastodon"),
]


def upload(client, workspace, *rows):
    return client.post(url(workspace), {"file": csv_file(*rows)})


def token_of(response):
    return response.context["token"]


def test_the_page_explains_the_file(owner_client, workspace):
    body = owner_client.get(url(workspace)).content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert url(workspace, "import_example") in body
    assert "Europe/Paris" in body and "<code>publish_at</code>" in body


def test_a_file_with_a_bad_row_shows_the_report_and_imports_nothing(
    owner_client, workspace, mastodon
):
    response = upload(owner_client, workspace, *GOOD, ("Mauvais", "2025-03-12 09:00", "Nope"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported: 1 problem to fix" in body
    assert "<td>4</td>" in body and "<td>channels</td>" in body
    assert "No channel “Nope” in this workspace" in body
    assert 'name="token"' not in body  # no confirm button
    assert not Post.objects.exists()
    assert SESSION_KEY not in owner_client.session


def test_a_valid_file_is_previewed_then_imported_on_confirmation(owner_client, workspace, mastodon):
    response = upload(owner_client, workspace, *GOOD)
    assert response.status_code == 200
    body = response.content.decode()
    assert "2 posts are ready to import" in body
    assert "Acme Mastodon: 2 posts" in body
    assert "Confirming schedules every post at its time." in body
    assert not Post.objects.exists()  # nothing before the confirmation

    response = owner_client.post(url(workspace, "import_confirm"), {"token": token_of(response)})
    assert response.status_code == 302 and response["Location"] == url(workspace)
    posts = list(Post.objects.order_by("publish_at"))
    assert [post.text for post in posts] == ["Lundi", "Mardi"]
    assert {post.status for post in posts} == {PostStatus.SCHEDULED}
    assert Delivery.objects.count() == 2
    assert posts[0].publish_at == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    page = owner_client.get(response["Location"]).content.decode()
    assert "2 posts imported. 2 are scheduled." in page
    assert SESSION_KEY not in owner_client.session


def test_a_second_confirmation_imports_nothing_more(owner_client, workspace, mastodon):
    token = token_of(upload(owner_client, workspace, *GOOD))
    owner_client.post(url(workspace, "import_confirm"), {"token": token})
    response = owner_client.post(url(workspace, "import_confirm"), {"token": token}, follow=True)
    assert "The file to import is no longer waiting" in response.content.decode()
    assert Post.objects.count() == 2


def test_the_confirmation_needs_the_token_of_the_kept_file(owner_client, workspace, mastodon):
    upload(owner_client, workspace, *GOOD)
    for token in ("", "forged"):
        response = owner_client.post(url(workspace, "import_confirm"), {"token": token})
        assert response.status_code == 302
    assert not Post.objects.exists()


def test_a_new_upload_replaces_the_kept_file(owner_client, workspace, mastodon):
    first = token_of(upload(owner_client, workspace, *GOOD))
    second = token_of(upload(owner_client, workspace, GOOD[0]))
    owner_client.post(url(workspace, "import_confirm"), {"token": first})
    assert not Post.objects.exists()
    owner_client.post(url(workspace, "import_confirm"), {"token": second})
    assert list(Post.objects.values_list("text", flat=True)) == ["Lundi"]


def test_the_file_is_checked_again_on_confirmation(owner_client, workspace, mastodon):
    token = token_of(upload(owner_client, workspace, *GOOD))
    Channel.objects.filter(pk=mastodon.pk).update(state=ChannelState.DISABLED)
    response = owner_client.post(url(workspace, "import_confirm"), {"token": token})
    assert response.status_code == 400
    body = response.content.decode()
    assert "The file is no longer valid" in body and "is disabled" in body
    assert not Post.objects.exists()


def test_the_kept_file_belongs_to_its_workspace(owner_client, user, workspace, mastodon,
                                                make_workspace):  # fmt: skip
    other = make_workspace(owner=user)
    Channel.objects.create(workspace=other, network="mastodon", name="Acme Mastodon",
                           base_url="https://mastodon.example", account_id="2")  # fmt: skip
    token = token_of(upload(owner_client, workspace, *GOOD))
    owner_client.post(url(other, "import_confirm"), {"token": token})
    assert not Post.objects.exists()


def test_with_approval_the_posts_go_to_review(owner_client, workspace, mastodon):
    PublishingSettings.objects.create(workspace=workspace, require_approval=True)
    response = upload(owner_client, workspace, *GOOD)
    assert "confirming sends every post for review" in response.content.decode()
    response = owner_client.post(
        url(workspace, "import_confirm"), {"token": token_of(response)}, follow=True
    )
    assert "2 were sent for review." in response.content.decode()
    assert set(Post.objects.values_list("status", flat=True)) == {PostStatus.IN_REVIEW}


def test_a_contributor_imports_drafts(workspace, mastodon, make_member, client_for):
    client = client_for(make_member(workspace, Role.CONTRIBUTOR))
    response = upload(client, workspace, *GOOD)
    assert "Your role writes drafts" in response.content.decode()
    response = client.post(url(workspace, "import_confirm"), {"token": token_of(response)},
                           follow=True)  # fmt: skip
    assert "2 are drafts, for an editor to schedule." in response.content.decode()
    assert set(Post.objects.values_list("status", flat=True)) == {PostStatus.DRAFT}


def test_roles_and_strangers(workspace, mastodon, make_member, make_user, client_for):
    viewer = client_for(make_member(workspace, Role.VIEWER))
    assert viewer.get(url(workspace)).status_code == 403
    assert viewer.post(url(workspace), {"file": csv_file(*GOOD)}).status_code == 403
    assert viewer.get(url(workspace, "import_example")).status_code == 403
    stranger = client_for(make_user())
    assert stranger.get(url(workspace)).status_code == 404
    assert not Post.objects.exists()


def test_upload_problems_are_shown_on_the_form(owner_client, workspace, mastodon):
    response = owner_client.post(url(workspace), {})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    big = SimpleUploadedFile("big.csv", b"x" * (2 * 1024 * 1024 + 1), content_type="text/csv")
    response = owner_client.post(url(workspace), {"file": big})
    assert response.status_code == 400
    assert "the limit is 2.0\xa0MB" in response.content.decode()
    latin = SimpleUploadedFile("latin.csv", "text\nCafé\n".encode("latin-1"))
    response = owner_client.post(url(workspace), {"file": latin})
    assert response.status_code == 400 and "CSV UTF-8" in response.content.decode()


def test_the_example_file_imports_as_it_is(owner_client, workspace, mastodon):
    response = owner_client.get(url(workspace, "import_example"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{workspace.slug}-posts.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    text = response.content.decode("utf-8-sig")
    assert text.startswith("text;publish_at;channels")  # a French workspace: semicolons
    report = parse(response.content, workspace)
    assert report.errors == [] and len(report.rows) == 2
    # Next Monday at 9:00 and Tuesday at 12:30, local time, both with a thread on Mastodon.
    first, second = report.rows
    assert first.publish_at == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    assert second.publish_at == datetime(2025, 3, 11, 11, 30, tzinfo=UTC)
    assert first.channels == [mastodon] and len(second.thread) == 2
    # And through the page: the preview shows it as it will be imported.
    example = SimpleUploadedFile("example.csv", response.content, content_type="text/csv")
    body = owner_client.post(url(workspace), {"file": example}).content.decode()
    assert "2 posts are ready to import" in body and "(a thread of 3 parts)" in body


def test_an_english_workspace_gets_commas(owner_client, workspace):
    workspace.language = "en"
    workspace.save()
    text = owner_client.get(url(workspace, "import_example")).content.decode("utf-8-sig")
    assert text.startswith("text,publish_at,channels,title,first_comment,thread")
