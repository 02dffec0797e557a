import csv
import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

TRIBU = str(Path(sys.executable).parent / "tribu")
START = datetime(2015, 3, 1)


def series_csv(path, counts, header=True, blank_lines=False):
    lines = ["timestamp,value"] if header else []
    for step, count in enumerate(counts):
        lines.append(f"{START + timedelta(minutes=5 * step):%Y-%m-%d %H:%M:%S},{count}")
        if blank_lines and step % 50 == 0:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def spiky_counts():
    counts = [3 + (step % 7) for step in range(3 * 288)]
    for step in range(2 * 288 + 100, 2 * 288 + 112):
        counts[step] = 400
    return counts


def backtest(*args):
    out = io.StringIO()
    call_command("alerts", "backtest", *args, stdout=out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_backtest_writes_one_row_per_input_row_with_the_alert(tmp_path):
    counts = spiky_counts()
    rows = backtest("--csv", series_csv(tmp_path / "s.csv", counts, blank_lines=True))
    assert rows[0] == ["timestamp", "value", "alert"]
    assert [int(row[1]) for row in rows[1:]] == counts
    assert rows[1][0] == "2015-03-01 00:00:00"
    fired = [step for step, row in enumerate(rows[1:]) if row[2] == "1"]
    assert len(fired) == 1 and 2 * 288 + 100 <= fired[0] < 2 * 288 + 112
    assert {row[2] for row in rows[1:]} == {"0", "1"}


def test_header_is_optional_and_sensitivity_accepts_names_and_numbers(tmp_path):
    path = series_csv(tmp_path / "s.csv", spiky_counts(), header=False)
    for sensitivity in ("low", "high", "30"):
        rows = backtest("--csv", path, "--sensitivity", sensitivity)
        assert len(rows) == 1 + 3 * 288
        assert sum(row[2] == "1" for row in rows[1:]) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("timestamp,value\n2015-03-01 00:00:00,3\n\nyesterday,4\n", "line 4: “yesterday” is not a"),
        ("2015-03-01 00:00:00,3\n2015-03-01 00:05:00,-2\n", "line 2: “-2” is not a count"),
        ("2015-03-01 00:00:00,3\n2015-03-01 00:05:00,many\n", "line 2: “many” is not a count"),
        ("2015-03-01 00:00:00,3,4\n", "line 1: expected 2 columns"),
    ],
)
def test_a_malformed_row_is_reported_with_its_line_number(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message) as info:
        backtest("--csv", str(path))
    assert info.value.returncode == 2


def test_a_missing_file_and_an_unknown_sensitivity_are_explained(tmp_path):
    with pytest.raises(CommandError, match="Cannot read") as info:
        backtest("--csv", str(tmp_path / "missing.csv"))
    assert info.value.returncode == 2
    path = series_csv(tmp_path / "s.csv", [1, 2])
    with pytest.raises(CommandError, match="Unknown sensitivity 'extreme'"):
        backtest("--csv", path, "--sensitivity", "extreme")


def test_through_the_tribu_command(tmp_path):
    env = {**os.environ, "TRIBU_DATA_DIR": str(tmp_path / "data")}
    path = series_csv(tmp_path / "s.csv", spiky_counts())
    result = subprocess.run(
        [TRIBU, "alerts", "backtest", "--csv", path, "--sensitivity", "high"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "timestamp,value,alert" and len(lines) == 1 + 3 * 288
    assert sum(line.endswith(",1") for line in lines[1:]) == 1

    (tmp_path / "bad.csv").write_text("2015-03-01 00:00:00,3\n2015-03-01,oops\n")
    result = subprocess.run(
        [TRIBU, "alerts", "backtest", "--csv", str(tmp_path / "bad.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "line 2: “oops” is not a count" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
