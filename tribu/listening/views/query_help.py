"""The query language help page, in the user's language."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from tribu.core.access import workspace_view


@workspace_view("workspace.view")
@require_GET
def query_help(request):
    return render(request, "listening/query_help.html")
