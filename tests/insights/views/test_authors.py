"""insights.views.authors: ranking, author page, watch list, watching (role, audit, 404)."""

import pytest
from django.urls import reverse

from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.listening.models import Author


def test_ranking_sorts_and_exports(owner_client, workspace, seeded):
    base = reverse("insights:authors", args=[workspace.slug])
    for sort in ("activity", "reach", "engagement"):
        assert owner_client.get(f"{base}?sort={sort}&days=90").status_code == 200
    html = owner_client.get(f"{base}?topic={seeded['brand'].pk}").content.decode()
    ranking = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "@jeanne" in ranking and "calc" not in ranking  # "Rival sans voix" is not Tribu
    csv_text = owner_client.get(f"{base}?format=csv").content.decode()
    assert csv_text.splitlines()[0] == "Author,Handle,Network,Followers,Mentions,Engagement"
    assert "'=cmd|' /C calc'!A0" in csv_text


def test_author_page(owner_client, workspace, seeded):
    jeanne = seeded["jeanne"]
    response = owner_client.get(reverse("insights:author", args=[workspace.slug, jeanne.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tribu encore" in html and 'role="img"' in html
    assert f"author={jeanne.pk}" in html
    csv_response = owner_client.get(
        reverse("insights:author", args=[workspace.slug, jeanne.pk]) + "?format=csv&days=7"
    )
    lines = csv_response.content.decode().splitlines()
    assert lines[0] == "Day,Negative,Positive,Neutral or not analysed"
    assert len(lines) == 8


def test_watch_and_unwatch(owner_client, workspace, seeded):
    jeanne = seeded["jeanne"]
    watch = reverse("insights:author_watch", args=[workspace.slug, jeanne.pk])
    response = owner_client.post(watch, {"watch": "1"})
    assert response.status_code == 302
    jeanne.refresh_from_db()
    assert jeanne.watched
    html = owner_client.get(reverse("insights:watchlist", args=[workspace.slug])).content.decode()
    assert "@jeanne" in html and "Stop watching" in html
    owner_client.post(watch, {"watch": "0", "next": "https://evil.example/"})
    jeanne.refresh_from_db()
    assert not jeanne.watched
    assert (
        list(AuditEvent.objects.filter(workspace=workspace).values_list("action", flat=True)).count(
            "author.watched"
        )
        == 1
    )
    assert owner_client.get(watch).status_code == 405


def test_viewers_cannot_watch(client_for, make_member, workspace, seeded):
    viewer = client_for(make_member(workspace, role=Role.VIEWER))
    jeanne = seeded["jeanne"]
    page = viewer.get(reverse("insights:author", args=[workspace.slug, jeanne.pk]))
    assert page.status_code == 200 and "Watch @jeanne" not in page.content.decode()
    watch = reverse("insights:author_watch", args=[workspace.slug, jeanne.pk])
    assert viewer.post(watch, {"watch": "1"}).status_code == 403
    assert not Author.objects.get(pk=jeanne.pk).watched


@pytest.mark.parametrize("name", ["insights:author", "insights:author_watch"])
def test_another_workspaces_author_is_404(owner_client, workspace, make_workspace, name):
    foreign = Author.objects.create(workspace=make_workspace(), network="web", key="x")
    if name == "insights:author_watch":
        response = owner_client.post(
            reverse(name, args=[workspace.slug, foreign.pk]), {"watch": "1"}
        )
        assert response.status_code == 404
        assert not Author.objects.get(pk=foreign.pk).watched
    assert owner_client.get(reverse(name, args=[workspace.slug, foreign.pk])).status_code == 404
