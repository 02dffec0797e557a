import importlib.util
from datetime import datetime, timedelta
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "evaluate_spikes.py"
spec = importlib.util.spec_from_file_location("evaluate_spikes", SCRIPT)
evaluate_spikes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(evaluate_spikes)


def test_windows_caught_and_false_alarms_counted_once_per_hour():
    start = datetime(2015, 3, 1)
    times = [start + timedelta(minutes=5 * step) for step in range(2 * 288 + 1)]
    alerts = [False] * len(times)
    for step in (10, 11, 20):  # within the hour after step 10: one false alarm
        alerts[step] = True
    alerts[30] = True  # 100 minutes after step 10: a second one
    alerts[40] = True  # 50 minutes after step 30: not counted
    alerts[300] = True  # inside the first window
    windows = [(times[290], times[310]), (times[400], times[420])]
    caught, false_alarms, days = evaluate_spikes.score(times, alerts, windows)
    assert (caught, false_alarms, days) == (1, 2, 2.0)
