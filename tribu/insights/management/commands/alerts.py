"""tribu alerts backtest --csv FILE [--sensitivity S]

Runs the spike detector over a `timestamp,value` CSV (counts per 5 minutes) and writes
`timestamp,value,alert` rows to standard output, for audits and tuning.
"""

import csv
import sys
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tribu.insights.spikes import SENSITIVITIES, SpikeDetector, threshold_for


class Command(BaseCommand):
    help = _("Spike alerts: replay the detector over a volume series.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        backtest = actions.add_parser(
            "backtest", help=_("write timestamp,value,alert rows for a timestamp,value CSV")
        )
        backtest.add_argument(
            "--csv",
            required=True,
            dest="csv_file",
            help=_(
                "CSV file of timestamp,value rows (counts per 5 minutes); - reads standard input"
            ),
        )
        backtest.add_argument(
            "--sensitivity",
            default="normal",
            help=_("low, normal or high, or a positive number (lower fires more often)"),
        )

    def handle(self, *args, action, csv_file, sensitivity, **options):
        try:
            threshold = threshold_for(sensitivity)
        except ValueError:
            raise CommandError(
                _("Unknown sensitivity %(value)r: use %(names)s, or a positive number.")
                % {"value": sensitivity, "names": ", ".join(SENSITIVITIES)},
                returncode=2,
            ) from None
        rows = self.read_rows(csv_file)
        detector = SpikeDetector(threshold=threshold)
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["timestamp", "value", "alert"])
        for timestamp, raw_value, moment, value in rows:
            alert = detector.update(value, moment.hour)
            writer.writerow([timestamp, raw_value, 1 if alert else 0])

    def read_rows(self, path):
        """All rows, validated before any output, so an error never leaves half a result."""
        try:
            if path == "-":
                return self.parse(sys.stdin)
            with open(path, newline="", encoding="utf-8") as handle:
                return self.parse(handle)
        except OSError as error:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror},
                returncode=2,
            ) from None

    def parse(self, handle):
        rows = []
        for number, fields in enumerate(csv.reader(handle), start=1):
            if not fields or all(not field.strip() for field in fields):
                continue
            if not rows and number == 1 and fields[0].strip().lower() == "timestamp":
                continue
            if len(fields) != 2:
                raise self.bad_row(number, _("expected 2 columns, timestamp and value"))
            timestamp, raw_value = (field.strip() for field in fields)
            try:
                moment = datetime.fromisoformat(timestamp)
            except ValueError:
                raise self.bad_row(
                    number, _("“%(text)s” is not a date and time") % {"text": timestamp}
                ) from None
            try:
                value = float(raw_value)
            except ValueError:
                value = -1.0
            if not value >= 0 or value == float("inf"):
                raise self.bad_row(
                    number, _("“%(text)s” is not a count (a number ≥ 0)") % {"text": raw_value}
                )
            rows.append((timestamp, raw_value, moment, value))
        return rows

    def bad_row(self, number, problem):
        return CommandError(
            _(
                "line %(number)d: %(problem)s. Each row must be timestamp,value, e.g. "
                "2015-03-01 12:05:00,42."
            )
            % {"number": number, "problem": problem},
            returncode=2,
        )
