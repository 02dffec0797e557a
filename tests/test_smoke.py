def test_login_page_renders(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Sign in to Tribu" in response.content


def test_workspace_home_for_owner(owner_client, workspace):
    response = owner_client.get(f"/w/{workspace.slug}/")
    assert response.status_code == 200
    assert b"Acme" in response.content
