"""insights.views.dashboard: pages, links to the mentions behind the numbers, CSV, access."""

import csv
import io

import pytest
from django.urls import reverse

from tribu.core.roles import Role


def url(workspace, topic=None, **params):
    if topic is None:
        base = reverse("insights:dashboard", args=[workspace.slug])
    else:
        base = reverse("insights:topic_dashboard", args=[workspace.slug, topic.pk])
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{base}?{query}" if query else base


def rows(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("days", [7, 30, 90])
def test_dashboard_shows_every_section(owner_client, workspace, seeded, days):
    response = owner_client.get(url(workspace, days=days))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="img"' in html and '<title id="chart-volume-title">' in html
    assert '<desc id="chart-volume-desc">' in html
    assert "4 mentions" in html
    assert "#printemps" in html and "tribu.example/offre" in html
    assert "Share of voice" in html and "chart-sov" in html
    # The total links to the period in the stream, hidden mentions included.
    assert "hidden=all" in html and "since=" in html


def test_numbers_link_to_the_mentions_behind_them(owner_client, workspace, seeded):
    html = owner_client.get(url(workspace, seeded["brand"], days=30)).content.decode()
    jeanne = seeded["jeanne"]
    assert f"author={jeanne.pk}" in html
    assert f"topic={seeded['brand'].pk}" in html
    assert "network=mastodon" in html
    assert "q=%23printemps" in html
    # Following the author link lists exactly their mentions in the topic.
    stream = owner_client.get(
        f"{reverse('listening:stream', args=[workspace.slug])}?hidden=all&author={jeanne.pk}"
        f"&topic={seeded['brand'].pk}"
    )
    assert stream.content.decode().count("data-mention ") == 2


def test_topic_dashboard_counts_the_topic_only(owner_client, workspace, seeded):
    response = owner_client.get(url(workspace, seeded["rival"], format="csv", chart="networks"))
    assert rows(response)[1][:2] == ["mastodon", "2"]


def test_volume_csv_sums_to_the_total(owner_client, workspace, seeded):
    data = rows(owner_client.get(url(workspace, days=7, format="csv", chart="volume")))
    assert data[0][0] == "Period start" and data[0][-1] == "Total"
    assert len(data) > 7 * 24 - 24
    assert sum(int(row[-1]) for row in data[1:]) == 4


def test_csv_cells_cannot_run_formulas(owner_client, workspace, seeded):
    data = rows(owner_client.get(url(workspace, format="csv", chart="authors")))
    names = [row[0] for row in data[1:]]
    assert "'=cmd|' /C calc'!A0" in names
    assert not any(name.startswith("=") for name in names)


@pytest.mark.parametrize(
    "chart", ["sentiment", "sources", "terms", "sov", "sov_sentiment", "sov_network"]
)
def test_every_chart_has_a_csv(owner_client, workspace, seeded, chart):
    data = rows(owner_client.get(url(workspace, format="csv", chart=chart)))
    assert len(data) >= 2


def test_an_unknown_chart_is_404(owner_client, workspace, seeded):
    assert owner_client.get(url(workspace, format="csv", chart="nope")).status_code == 404


def test_share_of_voice_explains_what_it_needs(owner_client, workspace):
    html = owner_client.get(url(workspace)).content.decode()
    assert "one of kind “Competitor”" in html
    assert owner_client.get(url(workspace, format="csv", chart="sov")).status_code == 404


def test_viewers_see_it_and_strangers_get_404(
    client_for, make_member, make_user, workspace, seeded
):
    viewer = make_member(workspace, role=Role.VIEWER)
    assert client_for(viewer).get(url(workspace)).status_code == 200
    assert client_for(make_user()).get(url(workspace)).status_code == 404


def test_another_workspaces_topic_is_404(owner_client, workspace, seeded, make_workspace):
    from tribu.listening.services import topics

    other = make_workspace()
    foreign = topics.create_topic(other, name="Secret", query="secret")
    assert owner_client.get(url(workspace, foreign)).status_code == 404
