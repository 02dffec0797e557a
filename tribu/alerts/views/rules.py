"""A topic's alert settings: sensitivity, and whether to watch all mentions, negative ones or
both."""

import copy

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tribu.alerts.forms import RuleForm
from tribu.alerts.services import alerts as service
from tribu.alerts.services.detection import rule_for
from tribu.core.access import workspace_view
from tribu.listening.models import Topic


@workspace_view("listening.manage")
def topic_settings(request, topic_id):
    topic = get_object_or_404(Topic, pk=topic_id, workspace=request.workspace)
    rule = rule_for(topic)
    rule.topic, rule.workspace = topic, request.workspace
    if request.method == "POST":
        # Validation writes into the form's instance: give it a copy, so the service still
        # sees the old values and records what changed.
        form = RuleForm(request.POST, instance=copy.copy(rule))
        if form.is_valid():
            data = form.cleaned_data
            service.update_rule(
                rule,
                sensitivity=data["sensitivity"],
                watch_volume=data["watch_volume"],
                watch_negative=data["watch_negative"],
                user=request.user,
                request=request,
            )
            messages.success(
                request, _("Alert settings saved for “%(topic)s”.") % {"topic": topic.name}
            )
            return redirect("alerts:topic_settings", request.workspace.slug, topic.pk)
    else:
        form = RuleForm(instance=rule)
    return render(
        request, "alerts/topic_settings.html", {"topic": topic, "rule": rule, "form": form}
    )
