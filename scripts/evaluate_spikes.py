"""Score the spike detector on labelled mention-volume series (NAB realTweets layout).

    .venv/bin/python scripts/evaluate_spikes.py [DATA_DIR] [--sensitivity S ...]
    .venv/bin/python scripts/evaluate_spikes.py --cross-validate

DATA_DIR (default ../shared/data/spikes/nab-realtweets) holds CSV files `timestamp,value`
(counts per 5 minutes) and labels.json {"windows": {file: [[start, end], ...]}}. A window is
caught when an alert fires inside it; alerts outside every window are false alarms, counted at
most once per hour. Prints one line per series and a total, for each sensitivity.

--cross-validate guards against tuning to five series: for each series in turn, it chooses
the sensitivity, the record ratio and the slow path (GRID below) on the four others (most
windows caught within 0.05 false alarms a day) and scores the held-out one.

Figures on the development set (5 series, 16 windows, 275 days), with the defaults:

    low     14/16 windows, 0.033 false alarms/day
    normal  15/16 windows, 0.054 false alarms/day
    high    15/16 windows, 0.058 false alarms/day
    leave-one-series-out: 14/16 windows, 0.062 false alarms/day on the held-out series

The target (every window at most 0.05 false alarms a day) is not reached: the missed window
(AMZN, 1 April) is a broad hump no higher than that week's other daily peaks, and the false
alarms that remain are bursts as large as the labelled ones (e.g. AAPL on 14 April, eleven
times the week's busy hour), which the labels leave out. No setting of GRID catches that
window; adding 3- and 12-hour record rules did (16/16), but at 0.065 false alarms a day.
"""

import argparse
import csv
import itertools
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


# Leave-one-series-out: the parameters that matter most, each on a few meaningful values.
GRID = {
    "sensitivity": (25.0, 50.0, 100.0),  # CUSUM threshold, nats (high, normal, low)
    "record_ratio": (1.2, 1.25, 1.3, 1.35, 1.4),  # margin over the week's busy hour
    "slow_ratio": (0.0, 1.15),  # slow path (0 = off): margin over the week's 12-hour volumes
}
FA_BUDGET = 0.05  # false alarms per day allowed when choosing parameters


def run(series, **options):
    """{name: (caught, windows, false alarms, days)} for one setting of the detector."""
    results = {}
    for name, (times, values, windows) in series.items():
        alerts = detect(values, slots=[at.hour for at in times], **options)
        caught, false_alarms, days = score(times, alerts, windows)
        results[name] = (caught, len(windows), false_alarms, days)
    return results


def total(results, names):
    rows = [results[name] for name in names]
    return tuple(sum(row[i] for row in rows) for i in range(4))


def choose(grid_results, names):
    """The setting that catches the most windows of `names` within the false-alarm budget
    (fewest false alarms among those); if none fits the budget, the fewest false alarms."""

    def key(item):
        caught, _, false_alarms, days = total(item[1], names)
        within = false_alarms / days <= FA_BUDGET
        return (within, caught if within else -false_alarms, -false_alarms)

    return max(grid_results, key=key)


def cross_validate(series):
    names = list(series)
    grid_results = []
    for values in itertools.product(*GRID.values()):
        options = dict(zip(GRID, values, strict=True))
        grid_results.append((options, run(series, **options)))
    print(f"leave-one-series-out over {len(grid_results)} settings (budget {FA_BUDGET}/day)")
    held_out = [0, 0, 0, 0.0]
    for name in names:
        training = [other for other in names if other != name]
        options, results = choose(grid_results, training)
        caught, windows, false_alarms, days = results[name]
        held_out = [a + b for a, b in zip(held_out, results[name], strict=True)]
        train = total(results, training)
        print(
            f"  held out {name:28} {options}: train {train[0]}/{train[1]} "
            f"@{train[2] / train[3]:.3f}/day; test {caught}/{windows} "
            f"@{false_alarms / days:.3f}/day"
        )
    print(
        f"  {'HELD-OUT TOTAL':37} windows {held_out[0]}/{held_out[1]}  false alarms {held_out[2]}"
        f" ({held_out[2] / held_out[3]:.3f}/day)"
    )
    options, results = choose(grid_results, names)
    caught, windows, false_alarms, days = total(results, names)
    print(f"  chosen on all five: {options}: {caught}/{windows} @{false_alarms / days:.3f}/day")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--sensitivity", action="append", help="name or number; repeatable")
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="choose the parameters on four series and score the fifth, for each series",
    )
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    labels = json.loads((data_dir / "labels.json").read_text())["windows"]
    series = {}
    for name in sorted(labels):
        times, values = load_series(data_dir / name)
        windows = [(parse_time(a), parse_time(b)) for a, b in labels[name]]
        series[name] = (times, values, windows)
    if args.cross_validate:
        cross_validate(series)
        return
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
