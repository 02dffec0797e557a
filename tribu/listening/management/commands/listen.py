import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.listening.models import Source
from tribu.listening.services import polling

DEFAULT_EVERY = 5.0


class Command(BaseCommand):
    help = _("Listening sources: poll them now, from the command line.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        poll = actions.add_parser(
            "poll",
            help=_("poll due sources (or one source) in this process"),
            description=_(
                "Poll sources without a worker. With --once, poll every due source (or the "
                "one given) once and print one line per source; otherwise keep polling due "
                "sources every few seconds until Ctrl-C."
            ),
        )
        poll.add_argument("--source", type=int, metavar="ID", help=_("poll only this source"))
        poll.add_argument(
            "--once", action="store_true", help=_("poll once, then exit (default: keep polling)")
        )
        poll.add_argument(
            "--every",
            type=float,
            default=DEFAULT_EVERY,
            metavar="SECONDS",
            help=_("seconds between two rounds when polling continuously (5)"),
        )

    def handle(self, *args, action, source=None, once=False, every=DEFAULT_EVERY, **options):
        self.verbosity = options.get("verbosity", 1)
        if source is not None and not Source.objects.filter(pk=source).exists():
            raise CommandError(
                _("No source has the id %(id)s. The sources page shows each source's id.")
                % {"id": source}
            )
        if once:
            self.round(source)
            return
        self.stdout.write(
            _("Polling due sources every %(seconds)s seconds; Ctrl-C stops.")
            % {"seconds": f"{every:g}"}
        )
        try:
            while True:
                close_old_connections()
                self.round(source)
                time.sleep(max(every, 0.1))
        except KeyboardInterrupt:
            self.stdout.write(_("Stopped."))

    def round(self, source_id):
        if source_id is not None:
            outcomes = [self.poll_one(source_id)]
        else:
            outcomes = list(polling.poll_due())
            if not outcomes and self.verbosity > 1:
                self.stdout.write(_("No source is due."))
        names = dict(
            Source.objects.filter(pk__in=[outcome.source_id for outcome in outcomes]).values_list(
                "pk", "name"
            )
        )
        for outcome in outcomes:
            self.stdout.write(describe(outcome, names.get(outcome.source_id, "")))
        return outcomes

    def poll_one(self, source_id):
        lease = polling.claim_now(source_id)
        if lease is None:
            return polling.PollOutcome(source_id, "skipped")
        return polling.poll_source(source_id, lease=lease)


def describe(outcome, name):
    """One line per source: `#12 Le Monde: 3 new, 17 duplicates`."""
    label = f"#{outcome.source_id} {name}".strip()
    if outcome.status == "ok":
        summary = ngettext("%(new)d new", "%(new)d new", outcome.new) % {"new": outcome.new}
        summary += ", " + ngettext(
            "%(count)d duplicate", "%(count)d duplicates", outcome.duplicates
        ) % {"count": outcome.duplicates}
    elif outcome.status == "not_modified":
        summary = _("not modified since the last poll")
    elif outcome.status == "paused":
        summary = _("error, source paused: %(error)s") % {"error": outcome.error}
    elif outcome.status == "error":
        summary = _("error: %(error)s") % {"error": outcome.error}
    elif outcome.paused:
        summary = _("skipped: the source is paused")
    else:
        summary = _("skipped: the source is turned off, or another worker is polling it")
    return f"{label}: {summary}"
