"""Helpers shared by the network client tests and the publisher tests."""

import json

from django.utils import timezone


class Stages:
    """A client's `save_stage` callback: keeps every stage saved, in order, as the delivery
    row's JSONField would keep it."""

    def __init__(self):
        self.saved = []

    def __call__(self, stage):
        self.saved.append(json.loads(json.dumps(stage)))

    @property
    def last(self):
        return self.saved[-1] if self.saved else {}


def publisher_round(worker, now=None, limit=50):
    """One publisher round in this process: claim what is due, send it. Returns
    {delivery id: state afterwards}."""
    from tribu.core.tick import beat
    from tribu.publishing import publisher

    now = now or timezone.now()
    beat(worker, now)
    return {pk: publisher.send(pk, worker) for pk in publisher.claim_due(worker, now, limit)}


def log_events(delivery):
    return list(delivery.log.values_list("event", flat=True))
