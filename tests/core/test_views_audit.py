"""tribu.core.views.audit: the audit log page and CSV export."""

import csv
import io
from datetime import UTC, datetime

from django.urls import reverse

from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.core.services import audit, members


def test_page_shows_sentences_newest_first_in_the_workspace_time(owner_client, workspace, user):
    AuditEvent.objects.all().delete()
    event = audit.record(
        workspace, "member.invited", actor=user, target="bob@example.com", role="editor"
    )
    event.created_at = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    event.save()
    audit.record(workspace, "security.login", actor=user, target=user.email)
    page = owner_client.get(reverse("core:audit", args=["acme"])).content.decode()
    assert "alice@example.com invited bob@example.com as Editor." in page
    assert page.index("signed in") < page.index("invited bob")
    assert "12:00" in page or "noon" in page  # 10:00 UTC is 12:00 in Paris in summer


def test_filter_by_prefix_and_pagination(owner_client, workspace, user):
    for number in range(55):
        audit.record(workspace, "security.login", actor=user, target=f"n{number}")
    members.invite(workspace, email="bob@example.com", role="viewer", invited_by=user)
    page = owner_client.get(reverse("core:audit", args=["acme"]), {"action": "member."})
    assert "invited bob@example.com" in page.content.decode()
    assert "signed in" not in page.content.decode()
    everything = owner_client.get(reverse("core:audit", args=["acme"]))
    assert everything.context["page"].paginator.num_pages == 2
    assert len(everything.context["rows"]) == 50


def test_csv_exports_the_current_filter_and_defuses_formulas(owner_client, workspace, user):
    audit.record(workspace, "security.login", actor=user, target="=HYPERLINK(1)")
    members.invite(workspace, email="bob@example.com", role="viewer", invited_by=user)
    response = owner_client.get(reverse("core:audit_csv", args=["acme"]), {"action": "security."})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "time"
    assert [row[2] for row in rows[1:]] == ["security.login"]
    assert rows[1][4] == "'=HYPERLINK(1)"
    assert rows[1][0].endswith(("+01:00", "+02:00"))


def test_editor_cannot_read_the_audit_log(client_for, workspace, make_member):
    editor = client_for(make_member(workspace, Role.EDITOR))
    assert editor.get(reverse("core:audit", args=["acme"])).status_code == 403
    assert editor.get(reverse("core:audit_csv", args=["acme"])).status_code == 403
