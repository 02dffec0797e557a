"""Bulk CSV import: reading the file (encodings, separators, caps), every kind of row
problem with its row and column, local times across daylight saving, and the import
itself, all or nothing."""

import csv
import io
import secrets
from datetime import UTC, datetime

import pytest
import time_machine

from tribu.channels.models import Channel, ChannelState
from tribu.core.roles import Role
from tribu.publishing.models import Delivery, Post, PostStatus, PublishingSettings
from tribu.publishing.services import csv_import
from tribu.publishing.services.csv_import import CsvImportError, import_rows, parse

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
HEADER = ["text", "publish_at", "channels", "title", "first_comment", "thread"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_channel(workspace, name, network="mastodon", **fields):
    return Channel.objects.create(
        workspace=workspace, network=network, name=name, base_url="https://mastodon.example",
        account_id=secrets.token_hex(4), **fields,
    )  # fmt: skip


@pytest.fixture
def mastodon(workspace):
    return make_channel(workspace, "Acme Mastodon", handle="@acme@mastodon.example")


@pytest.fixture
def bluesky(workspace):
    return make_channel(workspace, "Acme Bluesky", network="bluesky")


def to_csv(rows, header=HEADER, delimiter=",", encoding="utf-8", line_end="\n"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def row(text="Bonjour", when="2025-03-10 09:00", channels="Acme Mastodon", title="",
        first_comment="", thread=""):  # fmt: skip
    return [text, when, channels, title, first_comment, thread]


def problems(report):
    return [(error.row, error.column) for error in report.errors]


# Reading the file -------------------------------------------------------------------------------


def test_a_valid_file_gives_its_rows(workspace, mastodon, bluesky):
    data = to_csv(
        [
            row("Premier", "2025-03-10 09:00", "Acme Mastodon | Acme Bluesky", title="Un"),
            row("Deuxième", "2025-03-11 18:30", f"{bluesky.pk}", thread="Suite || Fin ||  "),
            row("Troisième", "2025-03-12 12:00", "acme mastodon,@acme@mastodon.example"),
        ]
    )
    report = parse(data, workspace)
    assert report.errors == []
    assert report.valid
    first, second, third = report.rows
    assert (first.number, first.text, first.title) == (2, "Premier", "Un")
    assert first.channels == [mastodon, bluesky]
    assert first.publish_at == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # Paris is UTC+1
    assert second.channels == [bluesky] and second.thread == ["Suite", "Fin"]
    assert third.channels == [mastodon]  # a name (any case) and a handle, counted once
    summary = report.summary()
    assert summary["count"] == 3
    assert summary["channels"] == [(mastodon, 2), (bluesky, 2)]
    assert summary["first"] == first.publish_at and summary["last"] == third.publish_at


def test_a_byte_order_mark_and_windows_line_ends(workspace, mastodon):
    data = b"\xef\xbb\xbf" + to_csv([row("Avec BOM"), row("Et CRLF", "2025-03-11 09:00")],
                                   line_end="\r\n")  # fmt: skip
    report = parse(data, workspace)
    assert report.errors == []
    assert [r.text for r in report.rows] == ["Avec BOM", "Et CRLF"]


def test_french_excel_semicolons_headers_and_dates(workspace, mastodon):
    data = to_csv(
        [["Bonne rentrée ; à tous", "10/03/2025 09:00", "Acme Mastodon", "Rentrée"]],
        header=["Texte", "Date", "Canaux", "Titre"],
        delimiter=";",
    )
    report = parse(b"\xef\xbb\xbf" + data, workspace)
    assert report.errors == []
    (only,) = report.rows
    assert only.text == "Bonne rentrée ; à tous" and only.title == "Rentrée"
    assert only.publish_at == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    assert report.delimiter == ";"


def test_tabs_and_an_excel_sep_line(workspace, mastodon):
    tabs = parse(to_csv([row("Tab")], delimiter="\t"), workspace)
    assert tabs.errors == [] and tabs.delimiter == "\t"
    sep = parse(b"sep=;\r\n" + to_csv([row("Sep", channels="Acme Mastodon")], delimiter=";"),
                workspace)  # fmt: skip
    assert sep.errors == [] and sep.rows[0].number == 2  # Excel hides the sep line


def test_cells_with_quotes_line_breaks_and_separators(workspace, mastodon):
    text = 'Deux lignes,\nune "citation"'
    report = parse(to_csv([row(text)]), workspace)
    assert report.errors == []
    assert report.rows[0].text == text


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("text,publish_at,channels\nCafé,2025-03-10 09:00,Acme Mastodon\n".encode("cp1252"),
         "not in UTF-8: line 2"),
        ("text,publish_at,channels\nCafé,2025-03-10 09:00,Acme Mastodon\n".encode("utf-16"),
         "UTF-16"),
    ],
)  # fmt: skip
def test_other_encodings_are_refused_with_the_way_out(workspace, mastodon, data, words):
    report = parse(data, workspace)
    assert problems(report) == [(None, "")]
    message = report.errors[0].message
    assert words in message and "CSV UTF-8" in message
    assert report.rows == []


def test_a_broken_quote_names_its_row(workspace, mastodon):
    data = b'text,publish_at,channels\nBon,2025-03-10 09:00,Acme Mastodon\n"Mal,2025-03-10 09:00\n'
    report = parse(data, workspace)
    assert problems(report) == [(None, "")]
    assert "Row 3 cannot be read" in report.errors[0].message


def test_header_problems(workspace, mastodon):
    report = parse(to_csv([["a", "b", "c", "d"]], header=["text", "date", "Titel", "text"]),
                   workspace)  # fmt: skip
    found = {(error.row, error.column): error.message for error in report.errors}
    assert "Unknown column “Titel”" in found[(1, "Titel")]
    assert "appears twice" in found[(1, "text")]
    assert "“channels” is missing" in found[(1, "channels")]
    assert report.rows == []


def test_caps_and_empty_files(workspace, mastodon):
    assert (
        "more than 500 posts"
        in parse(to_csv([row(f"Post {n}") for n in range(501)]), workspace).errors[0].message
    )
    assert "larger than 2 MB" in parse(b"x" * (2 * 1024 * 1024 + 1), workspace).errors[0].message
    assert "has no post" in parse(to_csv([]), workspace).errors[0].message
    assert "first row must be the header" in parse(b"", workspace).errors[0].message


def test_the_largest_file_allowed_is_fine(workspace, mastodon):
    data = to_csv([row(f"Post {n}", f"2025-04-{n % 28 + 1:02d} {n % 24:02d}:{n % 60:02d}")
                   for n in range(500)])  # fmt: skip
    report = parse(data, workspace)
    assert report.errors == [] and len(report.rows) == 500


def test_blank_rows_are_skipped_and_numbering_follows_the_sheet(workspace, mastodon):
    data = to_csv([["", "", "", "", "", ""], row(""), [], row("Bon")])
    report = parse(data, workspace)
    assert problems(report) == [(3, "text")]


def test_extra_cells_mean_an_unquoted_separator(workspace, mastodon):
    data = b"text;publish_at;channels\nA; B;2025-03-10 09:00;Acme Mastodon\n"
    report = parse(data, workspace)
    assert problems(report) == [(2, "")]
    assert "semicolon" in report.errors[0].message


# Every kind of row problem ------------------------------------------------------------------------


def test_every_row_is_checked_and_each_problem_named(workspace, mastodon, bluesky):
    make_channel(workspace, "Old account", state=ChannelState.DISABLED)
    make_channel(workspace, "Twin")
    make_channel(workspace, "Twin")
    make_channel(workspace, "Acme Insta", network="instagram")
    make_channel(workspace, "Acme LinkedIn", network="linkedin")
    rows = [
        row("Inconnu", channels="Nope"),  # 2
        row("Désactivé", channels="Old account"),  # 3
        row("Mauvaise date", when="demain 9h"),  # 4
        row("Passé", when="2025-02-01 09:00"),  # 5
        row("   "),  # 6
        row("x" * 501),  # 7
        row("Commentaire", first_comment="Pas sur Mastodon"),  # 8
        row("Jumeaux", channels="Twin"),  # 9
        row("Pas un jour", when="31/02/2025 09:00"),  # 10
        row("Sans canal", channels=" | "),  # 11
        row("Fil", channels="Acme Bluesky", thread="ok || " + "y" * 301),  # 12
        row("Doublon", when="2025-03-20 10:00"),  # 13
        row("Doublon", when="2025-03-20 10:00"),  # 14
        row("Image", channels="Acme Insta"),  # 15
        row("Titre", title="t" * 201),  # 16
        row("Fil LinkedIn", channels="Acme LinkedIn", thread="Deux"),  # 17
        row("Bon", when="2025-03-21 10:00"),  # 18
        row("", when=""),  # 19: two problems on one row
    ]
    report = parse(to_csv(rows), workspace)
    found = {(error.row, error.column): error.message for error in report.errors}
    expected = {
        (2, "channels"): "No channel “Nope” in this workspace",
        (3, "channels"): "“Old account” is disabled",
        (4, "publish_at"): "“demain 9h” is not a date and time",
        (5, "publish_at"): "2025-02-01 09:00 is in the past",
        (6, "text"): "The text is empty",
        (7, "text"): "Acme Mastodon: Too long for Mastodon",
        (8, "first_comment"): "Acme Mastodon: Mastodon has no first comment",
        (9, "channels"): "Several channels are called “Twin”",
        (10, "publish_at"): "not a real date",
        (11, "channels"): "No channel.",
        (12, "thread"): "Acme Bluesky: Part 3 of the thread is too long for Bluesky",
        (14, ""): "repeats row 13",
        (15, "channels"): "Instagram needs an image, which a CSV file cannot carry",
        (16, "title"): "shorten it to 200",
        (17, "thread"): "LinkedIn has no threads",
        (19, "text"): "The text is empty",
        (19, "publish_at"): "The date and time are missing",
    }
    assert set(found) == set(expected)
    for key, words in expected.items():
        assert words in found[key], (key, found[key])
    assert [r.number for r in report.rows] == [13, 18]  # 14 repeats 13; 13 itself is fine
    assert not report.valid
    assert [error.row for error in report.errors] == sorted(e.row for e in report.errors)


def test_the_columns_are_named_as_the_file_names_them(workspace, mastodon):
    data = to_csv([["Bonjour", "hier", "Acme Mastodon"]], header=["Texte", "Date", "Canaux"])
    report = parse(data, workspace)
    assert problems(report) == [(2, "Date")]


def test_an_unknown_channel_lists_the_usable_ones(workspace, mastodon, bluesky):
    make_channel(workspace, "Gone", state=ChannelState.DISABLED)
    message = parse(to_csv([row(channels="Nope")]), workspace).errors[0].message
    assert "Acme Bluesky, Acme Mastodon." in message and "Gone" not in message
    make_channel(workspace, "Acme Bluesky", network="bluesky")  # two of a name: said once
    message = parse(to_csv([row(channels="Nope")]), workspace).errors[0].message
    assert "page: Acme Bluesky, Acme Mastodon." in message


def test_a_workspace_without_channels_is_told_to_connect_one(workspace):
    message = parse(to_csv([row()]), workspace).errors[0].message
    assert "no channel yet" in message


def test_a_post_already_in_tribu_is_not_imported_twice(workspace, mastodon):
    Post.objects.create(
        workspace=workspace, text="Déjà là", publish_at=datetime(2025, 3, 10, 8, tzinfo=UTC)
    )
    report = parse(to_csv([row("Déjà là", "2025-03-10 09:00"), row("Nouveau")]), workspace)
    assert problems(report) == [(2, "")]
    assert "already in Tribu" in report.errors[0].message


def test_channels_of_other_workspaces_are_unknown(workspace, mastodon, make_workspace):
    foreign = make_channel(make_workspace(), "Their channel")
    report = parse(to_csv([row(channels=str(foreign.pk)), row(channels="Their channel")]),
                   workspace)  # fmt: skip
    assert problems(report) == [(2, "channels"), (3, "channels")]


# Dates and daylight saving ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-29 09:00", datetime(2025, 3, 29, 8, 0, tzinfo=UTC)),  # winter: UTC+1
        ("2025-03-30 09:00", datetime(2025, 3, 30, 7, 0, tzinfo=UTC)),  # summer from today
        ("30/03/2025 09:00", datetime(2025, 3, 30, 7, 0, tzinfo=UTC)),
        ("30/03/2025 9h05", datetime(2025, 3, 30, 7, 5, tzinfo=UTC)),
        ("2025-03-30T09:00:30", datetime(2025, 3, 30, 7, 0, 30, tzinfo=UTC)),
        ("2025-03-30 01:59", datetime(2025, 3, 30, 0, 59, tzinfo=UTC)),  # just before the gap
        ("2025-03-30 03:00", datetime(2025, 3, 30, 1, 0, tzinfo=UTC)),  # just after
        # The autumn hour that happens twice is its first occurrence (still summer time).
        ("2025-10-26 02:30", datetime(2025, 10, 26, 0, 30, tzinfo=UTC)),
        ("2025-10-26 09:00", datetime(2025, 10, 26, 8, 0, tzinfo=UTC)),
        # An offset says it all, whatever the workspace's zone.
        ("2025-03-30T09:00:00+00:00", datetime(2025, 3, 30, 9, 0, tzinfo=UTC)),
        ("2025-03-30T09:00:00Z", datetime(2025, 3, 30, 9, 0, tzinfo=UTC)),
        ("2025-03-30 09:00-0430", datetime(2025, 3, 30, 13, 30, tzinfo=UTC)),
    ],
)
def test_local_times_follow_the_workspace_zone(workspace, value, expected):
    moment, message = csv_import.parse_when(value, workspace.tzinfo)
    assert message is None
    assert moment == expected


@pytest.mark.parametrize(
    "value", ["2025-03-30 24:00", "2025-02-29 09:00", "2025-03-30T09:00+25:00", "2025-03-30"]
)
def test_impossible_dates_are_refused(workspace, value):
    moment, message = csv_import.parse_when(value, workspace.tzinfo)
    assert moment is None and value in message


def test_a_time_in_the_spring_gap_does_not_exist(workspace, mastodon):
    report = parse(to_csv([row(when="2025-03-30 02:30")]), workspace)
    assert problems(report) == [(2, "publish_at")]
    message = report.errors[0].message
    assert "does not exist in Europe/Paris" in message and "2025-03-30 03:30" in message


def test_another_zone(workspace, mastodon):
    workspace.timezone = "America/Montreal"
    workspace.save()
    report = parse(to_csv([row(when="2025-03-10 09:00")]), workspace)
    assert report.rows[0].publish_at == datetime(2025, 3, 10, 13, 0, tzinfo=UTC)  # EDT, UTC-4


# Importing ---------------------------------------------------------------------------------------


def valid_rows(workspace, *rows):
    report = parse(to_csv(rows), workspace)
    assert report.errors == []
    return report.rows


def test_import_schedules_every_post(workspace, user, mastodon, bluesky):
    rows = valid_rows(
        workspace,
        row("Un", "2025-03-10 09:00", "Acme Mastodon | Acme Bluesky", title="Titre"),
        row("Deux", "2025-03-11 09:00", "Acme Bluesky", thread="Suite"),
    )
    posts = import_rows(workspace, user, Role.OWNER, rows)
    assert [post.status for post in posts] == [PostStatus.SCHEDULED] * 2
    one = Post.objects.get(text="Un")
    assert one.title == "Titre" and one.publish_at == datetime(2025, 3, 10, 8, tzinfo=UTC)
    assert {d.channel_id for d in one.deliveries.all()} == {mastodon.pk, bluesky.pk}
    assert Post.objects.get(text="Deux").thread == ["Suite"]
    assert Delivery.objects.filter(workspace=workspace).count() == 3


def test_with_approval_required_the_posts_go_to_review(workspace, user, mastodon):
    PublishingSettings.objects.create(workspace=workspace, require_approval=True)
    rows = valid_rows(workspace, row("Un"), row("Deux", "2025-03-11 09:00"))
    posts = import_rows(workspace, user, Role.EDITOR, rows)
    assert {post.status for post in posts} == {PostStatus.IN_REVIEW}
    assert not Delivery.objects.exists()


def test_drafts_without_scheduling(workspace, user, mastodon):
    rows = valid_rows(workspace, row("Un"))
    (post,) = import_rows(workspace, user, Role.CONTRIBUTOR, rows, schedule=False)
    assert post.status == PostStatus.DRAFT and post.publish_at is not None


def test_a_refused_permission_midway_imports_nothing(workspace, user, mastodon):
    # A contributor may create posts but not schedule them: the first post is created,
    # then its scheduling is refused, and the whole transaction is rolled back.
    rows = valid_rows(workspace, row("Un"), row("Deux", "2025-03-11 09:00"))
    with pytest.raises(CsvImportError) as caught:
        import_rows(workspace, user, Role.CONTRIBUTOR, rows)
    assert caught.value.errors[0].row is None
    assert "does not allow" in caught.value.errors[0].message
    assert not Post.objects.exists() and not Delivery.objects.exists()
    with pytest.raises(CsvImportError):
        import_rows(workspace, user, Role.VIEWER, rows, schedule=False)
    assert not Post.objects.exists()


def test_rows_are_checked_again_before_importing(workspace, user, mastodon, bluesky):
    rows = valid_rows(
        workspace, row("Un", channels="Acme Mastodon"), row("Deux", channels="Acme Bluesky")
    )
    Channel.objects.filter(pk=bluesky.pk).update(state=ChannelState.DISABLED)
    with pytest.raises(CsvImportError) as caught:
        import_rows(workspace, user, Role.OWNER, rows)
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "channels")]
    assert not Post.objects.exists()


def test_time_passing_between_check_and_import_is_caught(workspace, user, mastodon):
    rows = valid_rows(workspace, row("Un", "2025-03-01 11:30"))
    later = time_machine.travel(datetime(2025, 3, 1, 10, 31, tzinfo=UTC), tick=False)
    with later, pytest.raises(CsvImportError, match="in the past"):
        import_rows(workspace, user, Role.OWNER, rows)
    assert not Post.objects.exists()


def test_importing_the_same_rows_twice_is_refused(workspace, user, mastodon):
    rows = valid_rows(workspace, row("Un"))
    import_rows(workspace, user, Role.OWNER, rows)
    with pytest.raises(CsvImportError, match="already in Tribu"):
        import_rows(workspace, user, Role.OWNER, rows)
    assert Post.objects.count() == 1


def test_nothing_to_import(workspace, user):
    with pytest.raises(CsvImportError, match="nothing to import"):
        import_rows(workspace, user, Role.OWNER, [])
