"""Score the spike detector on labelled mention-volume series (NAB realTweets layout).

    .venv/bin/python scripts/evaluate_spikes.py [DATA_DIR] [--sensitivity S ...]

DATA_DIR (default ../shared/data/spikes/nab-realtweets) holds CSV files `timestamp,value`
(counts per 5 minutes) and labels.json {"windows": {file: [[start, end], ...]}}. A window is
caught when an alert fires inside it; alerts outside every window are false alarms, counted at
most once per hour. Prints one line per series and a total, for each sensitivity.
"""

import argparse
import csv
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tribu.insights.spikes import SENSITIVITIES, detect  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared/data/spikes/nab-realtweets"


def parse_time(text):
    return datetime.fromisoformat(text.strip())


def load_series(path):
    with open(path, newline="") as handle:
        rows = [row for row in csv.DictReader(handle)]
    times = [parse_time(row["timestamp"]) for row in rows]
    return times, [float(row["value"]) for row in rows]


def score(times, alerts, windows):
    caught = sum(
        any(fired and start <= at <= end for at, fired in zip(times, alerts, strict=True))
        for start, end in windows
    )
    false_alarms = 0
    last_counted = None
    for at, fired in zip(times, alerts, strict=True):
        if not fired or any(start <= at <= end for start, end in windows):
            continue
        if last_counted is None or at - last_counted >= timedelta(hours=1):
            false_alarms += 1
            last_counted = at
    days = (times[-1] - times[0]).total_seconds() / 86400
    return caught, false_alarms, days


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--sensitivity", action="append", help="name or number; repeatable")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    labels = json.loads((data_dir / "labels.json").read_text())["windows"]
    series = {}
    for name in sorted(labels):
        times, values = load_series(data_dir / name)
        windows = [(parse_time(a), parse_time(b)) for a, b in labels[name]]
        series[name] = (times, values, windows)
    for sensitivity in args.sensitivity or SENSITIVITIES:
        totals = [0, 0, 0, 0.0]
        print(f"sensitivity={sensitivity}")
        for name, (times, values, windows) in series.items():
            alerts = detect(values, slots=[at.hour for at in times], sensitivity=sensitivity)
            caught, false_alarms, days = score(times, alerts, windows)
            totals = [
                totals[0] + caught,
                totals[1] + len(windows),
                totals[2] + false_alarms,
                totals[3] + days,
            ]
            print(
                f"  {name:28} windows {caught}/{len(windows)}  false alarms {false_alarms}"
                f" ({false_alarms / days:.3f}/day over {days:.1f} days)"
            )
        print(
            f"  {'TOTAL':28} windows {totals[0]}/{totals[1]}  false alarms {totals[2]}"
            f" ({totals[2] / totals[3]:.3f}/day over {totals[3]:.1f} days)"
        )


if __name__ == "__main__":
    main()
