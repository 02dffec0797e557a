"""Huey tasks of the insights app."""

from huey.contrib.djhuey import db_task

from tribu.insights.services import warm


@db_task(retries=1, retry_delay=60)
def warm_dashboards_task(workspace_id):
    """Pre-compute a workspace's dashboard panels (services/warm.py)."""
    return warm.warm_workspace(workspace_id)
