from django.urls import path

from tribu.core.views import workspaces

app_name = "core"

urlpatterns = [
    path("", workspaces.home, name="home"),
    path("w/new/", workspaces.workspace_create, name="workspace_create"),
    path("w/<slug:ws>/", workspaces.workspace_home, name="workspace_home"),
]
