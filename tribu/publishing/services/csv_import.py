"""Bulk CSV import of posts: every row checked, nothing imported until the whole file is valid.

The file (`parse()`):

- UTF-8, with or without a byte-order mark; any other encoding is refused with the steps to
  export UTF-8 from Excel, LibreOffice or Google Sheets. At most MAX_BYTES and MAX_ROWS
  posts.
- Separated by commas, semicolons (French Excel) or tabs: the header row decides, whichever
  of them it holds most. An Excel "sep=;" first line is honoured.
- A header row naming the columns (COLUMNS; a few French names are accepted, see ALIASES):
  `text`, `publish_at` and `channels` are required; `title`, `first_comment` and `thread`
  are optional. Rows are numbered as a spreadsheet shows them: the header is row 1.
- `publish_at`: "YYYY-MM-DD HH:MM" or "DD/MM/YYYY HH:MM" in the workspace's time zone, or
  ISO 8601 with an offset ("2025-06-03T09:00:00+02:00", "…Z"). A local time that does not
  exist (the spring change) is refused; one that happens twice (the autumn change) is its
  first occurrence, as for rituals.
- `channels`: channel names (as on the Channels page), handles or ids, separated by "|" or
  ",". `thread`: the follow-up parts, separated by "||".

Every row is checked (`parse()` returns a Report: the rows and the (row, column, message)
errors): required cells, dates (format, existence, not in the past), channels (unknown,
ambiguous, disabled), the text as each channel's network counts it (publishing/text.py),
rows that repeat another row, and posts already in Tribu with the same text and time (a
file imported twice).

`import_rows()` checks the rows again, then creates every post in one transaction with
posts.create_post and, when asked, posts.schedule (which sends a post to review when the
workspace requires approval): any refusal, permissions included, imports nothing.
"""

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from tribu.channels.models import Channel, ChannelState
from tribu.core.models import Workspace
from tribu.publishing import text as network_text
from tribu.publishing.models import Post
from tribu.publishing.services import posts as post_service
from tribu.publishing.services.posts import PostError

MAX_BYTES = 2 * 1024 * 1024
# One import is one transaction: on SQLite it holds the single write lock throughout, so
# the file stays small enough to commit in a few seconds (about 25 queries per post).
MAX_ROWS = 500
DELIMITERS = (",", ";", "\t")
THREAD_SEPARATOR = "||"
TITLE_MAX = 200
COLUMNS = ("text", "publish_at", "channels", "title", "first_comment", "thread")
REQUIRED = ("text", "publish_at", "channels")
# Header names a French team is likely to write, and spelling variants.
ALIASES = {
    "texte": "text",
    "message": "text",
    "date": "publish_at",
    "publish_on": "publish_at",
    "publication": "publish_at",
    "date_de_publication": "publish_at",
    "channel": "channels",
    "canal": "channels",
    "canaux": "channels",
    "titre": "title",
    "premier_commentaire": "first_comment",
    "comment": "first_comment",
    "fil": "thread",
}

_OFFSET = r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)"
_TIME = r"(?P<hour>\d{1,2})[:hH](?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
ISO_RE = re.compile(
    rf"^(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})[T ]\s*{_TIME}\s*{_OFFSET}?$"
)
DAY_FIRST_RE = re.compile(rf"^(?P<day>\d{{1,2}})/(?P<month>\d{{1,2}})/(?P<year>\d{{4}})\s+{_TIME}$")
SEP_LINE_RE = re.compile(r"^sep=(.)\s*$")


@dataclass(frozen=True)
class RowError:
    """One problem: `row` as the spreadsheet numbers it (the header is row 1; None for the
    file as a whole), `column` as the file names it ("" for the whole row)."""

    row: int | None
    column: str
    message: str


@dataclass
class ImportRow:
    number: int
    cells: dict  # column → the cell as written, checked again by import_rows()
    labels: dict  # column → its name in the file
    text: str = ""
    title: str = ""
    first_comment: str = ""
    thread: list = field(default_factory=list)
    publish_at: datetime | None = None
    channels: list = field(default_factory=list)


@dataclass
class Report:
    rows: list = field(default_factory=list)  # the rows without problems
    errors: list = field(default_factory=list)
    delimiter: str = ","

    @property
    def valid(self):
        return not self.errors and bool(self.rows)

    def summary(self):
        """{"count", "channels": [(channel, posts)], "first", "last"} of the valid rows."""
        per_channel = Counter()
        names = {}
        for row in self.rows:
            for channel in row.channels:
                per_channel[channel.pk] += 1
                names[channel.pk] = channel
        times = [row.publish_at for row in self.rows if row.publish_at]
        return {
            "count": len(self.rows),
            "channels": [(names[pk], count) for pk, count in per_channel.most_common()],
            "first": min(times) if times else None,
            "last": max(times) if times else None,
        }


class CsvImportError(Exception):
    """Nothing was imported: `errors` lists the RowErrors that stopped it."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__(self.errors[0].message if self.errors else "")


# Reading the file -----------------------------------------------------------------------------


def _file_error(message):
    return Report(errors=[RowError(None, "", message)])


def _not_utf8(detail):
    return _(
        "%(detail)s Export the file again as UTF-8: in Excel, “Save as” then “CSV UTF-8 "
        "(comma delimited)”; in LibreOffice, tick “Edit filter settings” and choose "
        "“Unicode (UTF-8)”; Google Sheets downloads UTF-8 already (File, Download, CSV)."
    ) % {"detail": detail}


def decode(data):
    """The file's text, or raises ValueError with a message that says how to fix it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise ValueError(_not_utf8(_("The file is in UTF-16 (“Unicode text”), not UTF-8.")))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(
            _not_utf8(
                _(
                    "The file is not in UTF-8: line %(line)s holds a character Tribu cannot "
                    "read (often an accented letter saved as Windows-1252 or Latin-1)."
                )
                % {"line": line}
            )
        ) from None


def sniff_delimiter(text):
    """Comma, semicolon or tab: whichever the header line holds most (comma on a tie)."""
    header = text.split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _header_key(name):
    key = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff").lower())
    key = "".join(char for char in key if not unicodedata.combining(char))
    key = re.sub(r"[\s\-]+", "_", key)
    return ALIASES.get(key, key)


def _read_header(cells):
    """({column: index}, {column: label}, errors) from the header row."""
    positions, labels, errors = {}, {}, []
    for index, raw in enumerate(cells):
        label = raw.strip()
        if not label:
            continue
        key = _header_key(label)
        if key not in COLUMNS:
            errors.append(
                RowError(
                    1,
                    label,
                    _(
                        "Unknown column “%(column)s”. The columns are: %(columns)s. Rename it "
                        "or remove it (download the example file to compare)."
                    )
                    % {"column": label, "columns": ", ".join(COLUMNS)},
                )
            )
        elif key in positions:
            errors.append(
                RowError(
                    1,
                    label,
                    _("The column “%(column)s” appears twice: keep only one.") % {"column": label},
                )
            )
        else:
            positions[key], labels[key] = index, label
    for key in REQUIRED:
        if key not in positions:
            errors.append(
                RowError(
                    1,
                    key,
                    _(
                        "The column “%(column)s” is missing. The header row must name at least "
                        "text, publish_at and channels (download the example file)."
                    )
                    % {"column": key},
                )
            )
    return positions, labels, errors


def _records(text, delimiter):
    """(row number, cells) of each row, numbered as a spreadsheet does (blank rows too)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    for number, cells in enumerate(reader, start=1):
        yield number, [cell.replace("\r\n", "\n").replace("\r", "\n") for cell in cells]


def parse(file_bytes, workspace, *, now=None):
    """Read and check a whole file: a Report with the valid rows and every problem."""
    if len(file_bytes) > MAX_BYTES:
        return _file_error(
            _(
                "The file is larger than 2 MB. Split it into several files and import them one "
                "after the other."
            )
        )
    try:
        text = decode(file_bytes)
    except ValueError as error:
        return _file_error(str(error))
    first, _newline, rest = text.partition("\n")
    sep = SEP_LINE_RE.match(first.rstrip("\r"))
    if sep:  # Excel's "sep=;" line: hidden by Excel, so the header is still row 1
        delimiter, text = sep.group(1), rest
    else:
        delimiter = sniff_delimiter(text)
    try:
        records = _read_records(text, delimiter)
    except _Unreadable as error:
        return _file_error(
            _(
                "Row %(row)s cannot be read: a double quote opens a cell and never closes, or "
                "text follows a closing double quote. Inside a cell, write a double quote as "
                'two (""), or export the file again from the spreadsheet.'
            )
            % {"row": error.row}
        )
    except _TooManyRows:
        return _file_error(
            _(
                "The file holds more than %(maximum)s posts. Split it into several files of at "
                "most %(maximum)s rows and import them one after the other."
            )
            % {"maximum": number_format(MAX_ROWS, force_grouping=True)}
        )
    if not records or not any(cell.strip() for cell in records[0][1]):
        return _file_error(
            _(
                "The first row must be the header naming the columns (text, publish_at, "
                "channels…). Download the example file to start from it."
            )
        )
    positions, labels, errors = _read_header(records[0][1])
    if errors:
        return Report(errors=errors, delimiter=delimiter)
    raw_rows = []
    for number, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            continue  # a blank row (spreadsheets often leave a few at the end)
        extra = [cell for index, cell in enumerate(cells) if index >= len(records[0][1])]
        if any(cell.strip() for cell in extra):
            errors.append(
                RowError(
                    number,
                    "",
                    _(
                        "This row has more cells than the header has columns: one of its cells "
                        "probably holds a %(separator)s, which separates the columns in this "
                        "file. Put that cell between double quotes, or export the file again "
                        "from the spreadsheet."
                    )
                    % {"separator": _separator_name(delimiter)},
                )
            )
            continue
        row = {
            key: (cells[index] if index < len(cells) else "") for key, index in positions.items()
        }
        raw_rows.append((number, row))
    if not raw_rows and not errors:
        return _file_error(_("The file has no post: add one row per post under the header."))
    rows, row_errors = check_rows(workspace, raw_rows, labels, now=now)
    errors = sorted(errors + row_errors, key=lambda error: error.row or 0)
    return Report(rows=rows, errors=errors, delimiter=delimiter)


class _TooManyRows(Exception):
    pass


class _Unreadable(Exception):
    def __init__(self, row):
        super().__init__(row)
        self.row = row


def _read_records(text, delimiter):
    records, posts = [], 0
    try:
        for number, cells in _records(text, delimiter):
            records.append((number, cells))
            if number > 1 and any(cell.strip() for cell in cells):
                posts += 1
                if posts > MAX_ROWS:
                    raise _TooManyRows
    except csv.Error:
        raise _Unreadable(len(records) + 1) from None
    return records


def _separator_name(delimiter):
    return {",": _("comma"), ";": _("semicolon"), "\t": _("tab")}.get(delimiter, delimiter)


# Checking the rows ----------------------------------------------------------------------------


def parse_when(value, tz):
    """(aware datetime, None) or (None, message) for a `publish_at` cell."""
    value = (value or "").strip()
    if not value:
        return None, _(
            "The date and time are missing. Write them as YYYY-MM-DD HH:MM (for example "
            "2025-06-03 09:00)."
        )
    match = ISO_RE.match(value) or DAY_FIRST_RE.match(value)
    if match is None:
        return None, _(
            "“%(value)s” is not a date and time Tribu reads. Write YYYY-MM-DD HH:MM (for "
            "example 2025-06-03 09:00), DD/MM/YYYY HH:MM, or ISO 8601 with an offset."
        ) % {"value": value[:60]}
    parts = match.groupdict()
    offset = parts.get("offset")
    try:
        moment = datetime(
            int(parts["year"]), int(parts["month"]), int(parts["day"]),
            int(parts["hour"]), int(parts["minute"]), int(parts["second"] or 0),
        )  # fmt: skip
        zone = _offset(offset) if offset else None
    except ValueError:
        return None, _(
            "“%(value)s” is not a real date or time (check the day, the month and the hour)."
        ) % {"value": value[:60]}
    if zone is not None:
        return moment.replace(tzinfo=zone).astimezone(UTC), None
    aware = moment.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if aware.astimezone(tz).replace(tzinfo=None) != moment:
        later = aware.astimezone(tz)
        return None, _(
            "%(value)s does not exist in %(zone)s: the clocks go forward that night. Choose "
            "another time, for example %(suggestion)s."
        ) % {"value": value, "zone": str(tz), "suggestion": later.strftime("%Y-%m-%d %H:%M")}
    return aware, None


def _offset(text):
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return dt_timezone(sign * timedelta(hours=hours, minutes=minutes))


def _split_channels(value):
    value = value or ""
    separator = "|" if "|" in value else ","
    names = []
    for name in value.split(separator):
        name = name.strip()
        if name and name not in names:
            names.append(name)
    return names


class _Channels:
    """The workspace's channels, found by id, name or handle (case-insensitive)."""

    def __init__(self, workspace):
        self.all = list(Channel.objects.filter(workspace=workspace).order_by("name", "id"))
        self.by_id = {str(channel.pk): channel for channel in self.all}
        self.by_name, self.by_handle = {}, {}
        for channel in self.all:
            self.by_name.setdefault(channel.name.casefold().strip(), []).append(channel)
            if channel.handle:
                handle = channel.handle.casefold().strip().lstrip("@")
                self.by_handle.setdefault(handle, []).append(channel)

    def find(self, name):
        """(channel, None) or (None, message)."""
        if name.isdigit() and name in self.by_id:
            found = [self.by_id[name]]
        else:
            key = name.casefold()
            found = self.by_name.get(key) or self.by_handle.get(key.lstrip("@")) or []
        if not found:
            usable = list(
                dict.fromkeys(c.name for c in self.all if c.state != ChannelState.DISABLED)
            )
            if not usable:
                return None, _(
                    "No channel “%(name)s”: this workspace has no channel yet. Connect one on "
                    "the Channels page first."
                ) % {"name": name}
            return None, _(
                "No channel “%(name)s” in this workspace. Use a name from the Channels page: "
                "%(names)s."
            ) % {"name": name, "names": ", ".join(usable)}
        if len(found) > 1:
            return None, _(
                "Several channels are called “%(name)s”: write the number of the one you mean "
                "instead (%(ids)s)."
            ) % {"name": name, "ids": ", ".join(str(c.pk) for c in found)}
        channel = found[0]
        if channel.state == ChannelState.DISABLED:
            return None, _(
                "The channel “%(name)s” is disabled. Enable it on the Channels page, or remove "
                "it from this row."
            ) % {"name": channel.name}
        return channel, None


def _problem_column(problem):
    if problem.code in ("image_required", "too_many_images") or problem.media is not None:
        return "channels"  # images: the fix is another channel (a CSV file carries none)
    if problem.part is None:
        return "first_comment"  # what is left without a part concerns the first comment
    return "thread" if problem.part >= 1 else "text"


def _network_problems(channel, row):
    """(column, message) of what the channel's network would refuse in this row."""
    found = network_text.validate(
        channel.network,
        text=row.text,
        thread=row.thread,
        first_comment=row.first_comment,
        media=(),
        limits=channel.limits or None,
    )
    for problem in found:
        if problem.severity != network_text.ERROR or problem.code == "empty":
            continue  # an empty text has its own message
        message = problem.message
        if problem.code == "image_required":
            message = _(
                "Instagram needs an image, which a CSV file cannot carry. Remove Instagram from "
                "this row and add the post there from the composer, with its image."
            )
        yield (
            _problem_column(problem),
            _("%(channel)s: %(problem)s")
            % {
                "channel": channel.name,
                "problem": message,
            },
        )


def _read_row(row, channels, tz, now):
    """Fill `row` from its cells; yields (column, message) for each problem."""
    cells = row.cells
    row.text = (cells.get("text") or "").strip()
    if not row.text:
        yield "text", _("The text is empty. Write the post in this cell.")
    row.title = (cells.get("title") or "").strip()
    if len(row.title) > TITLE_MAX:
        yield (
            "title",
            _("The title is %(length)s characters long; shorten it to %(maximum)s.")
            % {"length": len(row.title), "maximum": TITLE_MAX},
        )
    row.first_comment = (cells.get("first_comment") or "").strip()
    thread = (cells.get("thread") or "").split(THREAD_SEPARATOR)
    row.thread = [part.strip() for part in thread if part.strip()]
    row.publish_at, message = parse_when(cells.get("publish_at"), tz)
    if message:
        yield "publish_at", message
    elif row.publish_at <= now:
        when = row.publish_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        yield (
            "publish_at",
            _("%(when)s is in the past. Choose a date and time to come.") % {"when": when},
        )
    names = _split_channels(cells.get("channels"))
    if not names:
        yield (
            "channels",
            _(
                "No channel. Name at least one channel (as on the Channels page); separate several "
                "with “|”."
            ),
        )
    for name in names:
        channel, message = channels.find(name)
        if message:
            yield "channels", message
        elif channel not in row.channels:
            row.channels.append(channel)
    if row.text:
        for channel in row.channels:
            yield from _network_problems(channel, row)


def check_rows(workspace, raw_rows, labels, *, now=None):
    """([ImportRow] without problems, [RowError]) for [(number, {column: cell})]."""
    now = now or timezone.now()
    channels = _Channels(workspace)
    rows, errors = [], []
    for number, cells in raw_rows:
        row = ImportRow(number=number, cells=dict(cells), labels=labels)
        found = [
            RowError(number, labels.get(column, column), message)
            for column, message in _read_row(row, channels, workspace.tzinfo, now)
        ]
        errors += found
        if not found:
            rows.append(row)
    errors += _repeats(rows, labels)
    errors += _already_in_tribu(workspace, rows)
    bad = {error.row for error in errors}
    return [row for row in rows if row.number not in bad], sorted(
        errors, key=lambda error: error.row or 0
    )


def _repeats(rows, labels):
    seen, errors = {}, []
    for row in rows:
        key = (row.text, row.publish_at, tuple(sorted(c.pk for c in row.channels)),
               tuple(row.thread), row.first_comment)  # fmt: skip
        if key in seen:
            message = _(
                "This row repeats row %(other)s (same text, time and channels): remove one of them."
            ) % {"other": seen[key]}
            errors.append(RowError(row.number, "", message))
        else:
            seen[key] = row.number
    return errors


def _already_in_tribu(workspace, rows):
    times = {row.publish_at for row in rows}
    if not times:
        return []
    existing = set(
        Post.objects.filter(workspace=workspace, publish_at__in=times).values_list(
            "text", "publish_at"
        )
    )
    message = _(
        "A post with the same text at the same time is already in Tribu (was this file "
        "imported before?). Remove this row, or change its text or time."
    )
    return [
        RowError(row.number, "", message) for row in rows if (row.text, row.publish_at) in existing
    ]


# Importing ------------------------------------------------------------------------------------


def import_rows(workspace, actor, role, rows, *, schedule=True, request=None, now=None):
    """Create the posts of `rows` (from a valid Report) in one transaction; with `schedule`,
    schedule each (or send it to review when the workspace requires approval). Checks the
    rows again first; raises CsvImportError, having imported nothing, on any problem. The
    post services check the role themselves: a contributor may import drafts
    (`schedule=False`) but not schedule them."""
    if not rows:
        raise CsvImportError([RowError(None, "", _("There is nothing to import."))])
    labels = rows[0].labels
    with transaction.atomic():
        # One import at a time per workspace (a double click): the second one then finds the
        # first one's posts and refuses them as already in Tribu.
        Workspace.objects.select_for_update().get(pk=workspace.pk)
        checked, errors = check_rows(
            workspace, [(row.number, row.cells) for row in rows], labels, now=now
        )
        if errors:
            raise CsvImportError(errors)
        posts = []
        for row in checked:
            try:
                post = post_service.create_post(
                    workspace, actor, role, text=row.text, title=row.title,
                    channels=[channel.pk for channel in row.channels], publish_at=row.publish_at,
                    thread=row.thread, first_comment=row.first_comment, request=request,
                )  # fmt: skip
                if schedule:
                    post_service.schedule(post, actor, role, request=request)
            except PostError as error:
                # A refused role concerns the whole file, anything else this row.
                number = None if error.code == "forbidden" else row.number
                raise CsvImportError([RowError(number, "", error.message)]) from error
            posts.append(post)
    return posts
