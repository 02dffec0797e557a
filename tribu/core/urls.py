from django.urls import path

from tribu.core.views import audit, invitations, members, settings, workspaces

app_name = "core"

urlpatterns = [
    path("", workspaces.home, name="home"),
    path("w/new/", workspaces.workspace_create, name="workspace_create"),
    path("w/<slug:ws>/", workspaces.workspace_home, name="workspace_home"),
    # Team
    path("w/<slug:ws>/members/", members.member_list, name="members"),
    path("w/<slug:ws>/members/invite/", members.member_invite, name="member_invite"),
    path("w/<slug:ws>/members/leave/", members.member_leave, name="member_leave"),
    path("w/<slug:ws>/members/<int:member_id>/role/", members.member_role, name="member_role"),
    path(
        "w/<slug:ws>/members/<int:member_id>/remove/", members.member_remove, name="member_remove"
    ),
    path(
        "w/<slug:ws>/invitations/<int:invitation_id>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    # Reached from an email, before the visitor is a member: not under w/.
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
    # Settings and audit log
    path("w/<slug:ws>/settings/", settings.workspace_settings, name="settings"),
    path("w/<slug:ws>/delete/", settings.workspace_delete, name="workspace_delete"),
    path("w/<slug:ws>/audit/", audit.audit_log, name="audit"),
    path("w/<slug:ws>/audit.csv", audit.audit_csv, name="audit_csv"),
]
