"""The query language help page."""

from django.urls import reverse

from tribu.core.roles import Role


def test_the_help_page_explains_the_language_with_examples(client_for, make_member, workspace):
    client = client_for(make_member(workspace, Role.VIEWER))
    response = client.get(reverse("listening:query_help", args=[workspace.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    for example in ("NEAR/n", "ONEAR/n", "lumin*", "site:", "#maisonlumiere", "lang:fr"):
        assert example in body
    assert '<html lang="en">' in body


def test_the_help_page_follows_the_users_language(client_for, make_user, workspace):
    from tribu.core.models import Membership

    french = make_user(language="fr")
    Membership.objects.create(workspace=workspace, user=french, role=Role.VIEWER)
    body = client_for(french).get(reverse("listening:query_help", args=[workspace.slug]))
    assert '<html lang="fr">' in body.content.decode()
