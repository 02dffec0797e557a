import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

TRIBU = str(Path(sys.executable).parent / "tribu")


def write_lines(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return str(path)


@pytest.fixture
def files(tmp_path):
    queries = write_lines(
        tmp_path / "q.jsonl",
        [
            {"id": "brand", "query": '"maison lumière" OR #maisonlumiere'},
            {"id": "lamps", "query": "(lampe OR luminaire) -promo"},
            {"id": "news", "query": "site:lemonde.fr lampe"},
        ],
    )
    docs = write_lines(
        tmp_path / "d.jsonl",
        [
            {"id": "d1", "text": "La lampe de Maison Lumière", "url": "https://www.lemonde.fr/x"},
            {"id": "d2", "text": "Rien à voir"},
            {"id": 3, "text": "Lampe en promo #MaisonLumiere", "lang": "fr"},
        ],
    )
    return queries, docs


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("query", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_check_explains_the_query():
    out, _ = run("check", "(lampe OR luminaire) NOT promo")
    assert "(lampe OR luminaire) AND NOT promo" in out
    assert "any of these:" in out and "not this:" in out


def test_check_of_an_invalid_query_shows_a_caret_and_exits_2():
    with pytest.raises(CommandError) as info:
        run("check", "(lampe OR luminaire")
    assert info.value.returncode == 2
    message = str(info.value)
    assert "Add a closing parenthesis at character 20" in message
    assert message.endswith("(lampe OR luminaire\n" + " " * 19 + "^")


def test_match_writes_one_line_per_document_in_order(files):
    out, _ = run("match", "--queries", files[0], "--docs", files[1])
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines == [
        {"id": "d1", "matches": ["brand", "lamps", "news"]},
        {"id": "d2", "matches": []},
        {"id": 3, "matches": ["brand"]},
    ]


def test_an_invalid_query_stops_everything(tmp_path, files):
    queries = write_lines(
        tmp_path / "bad.jsonl", [{"id": "ok", "query": "lampe"}, {"id": "bad", "query": "titel:x"}]
    )
    with pytest.raises(CommandError) as info:
        call_command(
            "query",
            "match",
            "--queries",
            queries,
            "--docs",
            files[1],
            stdout=StringIO(),
            stderr=(err := StringIO()),
        )
    assert info.value.returncode == 2
    assert 'Query "bad" (line 2)' in err.getvalue() and "Did you mean title:?" in err.getvalue()


def test_malformed_json_names_the_line(tmp_path, files):
    docs = tmp_path / "d.jsonl"
    docs.write_text('{"id": "d1", "text": "lampe"}\n{"id": "d2", "text": \n', "utf-8")
    with pytest.raises(CommandError) as info:
        run("match", "--queries", files[0], "--docs", str(docs))
    assert info.value.returncode == 2
    assert "line 2: not valid JSON" in str(info.value)


def test_a_document_without_text_is_refused(tmp_path, files):
    docs = write_lines(tmp_path / "d.jsonl", [{"id": "d1", "title": "lampe"}])
    with pytest.raises(CommandError, match="“text” is missing"):
        run("match", "--queries", files[0], "--docs", docs)


def test_through_the_tribu_command_with_stdin(files, tmp_path):
    env = {**os.environ, "TRIBU_DATA_DIR": str(tmp_path / "data")}
    docs = Path(files[1]).read_text("utf-8")
    result = subprocess.run(
        [TRIBU, "query", "match", "--queries", files[0], "--docs", "-"],
        input=docs,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["matches"] for line in result.stdout.splitlines()] == [
        ["brand", "lamps", "news"],
        [],
        ["brand"],
    ]
    result = subprocess.run(
        [TRIBU, "query", "check", "lampe and luminaire"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Did you mean AND?" in result.stderr
    assert "Traceback" not in result.stderr
