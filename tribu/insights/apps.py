from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "tribu.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self):
        from tribu.core import tick
        from tribu.insights.services import warm  # noqa: F401  (registers its claimer)
        from tribu.insights.services.aggregates import prune_terms

        if prune_terms not in tick.HOUSEKEEPING:
            tick.HOUSEKEEPING.append(prune_terms)
