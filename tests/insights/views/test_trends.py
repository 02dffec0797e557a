"""insights.views.trends: rising terms with links, per topic, CSV, access."""

import pytest
from django.urls import reverse


def url(workspace, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{reverse('insights:trends', args=[workspace.slug])}?{query}"


def test_trends_page(owner_client, workspace, seeded):
    response = owner_client.get(url(workspace, days=7))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hashtags" in html and "log-odds" in html


def test_trends_per_topic_and_csv(owner_client, workspace, seeded, monkeypatch):
    from tribu.insights.services import trends

    monkeypatch.setattr(trends, "MIN_COUNT", 1)
    topic = seeded["brand"]
    html = owner_client.get(url(workspace, topic=topic.pk)).content.decode()
    assert "Trends: Tribu" in html
    response = owner_client.get(url(workspace, topic=topic.pk, format="csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == "Kind,Term,Now,Before,z-score"


@pytest.mark.parametrize("topic", ["999999", "abc"])
def test_unknown_topic_is_404(owner_client, workspace, seeded, topic):
    assert owner_client.get(url(workspace, topic=topic)).status_code == 404


def test_another_workspaces_topic_is_404(owner_client, workspace, make_workspace):
    from tribu.listening.services import topics

    foreign = topics.create_topic(make_workspace(), name="Secret", query="secret")
    assert owner_client.get(url(workspace, topic=foreign.pk)).status_code == 404
