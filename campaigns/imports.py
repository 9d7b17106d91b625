"""CSV lead import: read a messy real-world file, say what is wrong with each row, import the rest.

`parse` is pure (bytes in, rows and problems out), so the preview, the bad-rows download and the import
itself read a file exactly the same way. The services below store an upload as an ImportJob for the
preview (`import_create`), queue it once a marketer confirms (`import_confirm`), and import its valid
rows in one transaction through the capture service (`import_run`, called by the Celery task
`campaigns.tasks.import_leads`).
"""

import codecs
import contextlib
import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.outbox import outbox_send
from common.spreadsheet import restore_cell
from leads.models import Lead

from . import tasks
from .capture import BULK_CHUNK, LeadData, leads_capture_bulk
from .models import Campaign, ImportJob

logger = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
ERRORS_KEPT = 200  # problems stored for the preview; the bad-rows download always has every row
PROGRESS_CHUNK = BULK_CHUNK  # rows captured between two progress updates
DELIMITERS = (",", ";", "\t", "|")
NO_NAME = "(no name)"
PURGED = "The uploaded file is no longer kept (see the import's page); upload it again."

# The lead field each header means, by its normalised spelling (see `_header_key`).
ALIASES: dict[str, str] = {
    alias: target
    for target, aliases in {
        "full_name": ("name", "full name", "fullname", "contact", "contact name", "lead name"),
        "first_name": ("first name", "firstname", "given name", "forename", "vorname"),
        "last_name": ("last name", "lastname", "surname", "family name", "nachname"),
        "email": ("email", "e mail", "email address", "e mail address", "mail", "e mail adresse"),
        "company": ("company", "company name", "organisation", "organization", "account", "firma", "unternehmen"),
        "phone": ("phone", "phone number", "telephone", "telephone number", "tel", "mobile", "telefon"),
        "job_title": ("job title", "title", "jobtitle", "position", "role"),
        "country": ("country", "country region", "country code", "land"),
        "company_size": (
            "company size",
            "employees",
            "number of employees",
            "no of employees",
            "headcount",
            "mitarbeiter",
        ),
        # The column our own bad-rows download adds: a fixed file comes back with it.
        "error": ("error",),
    }.items()
    for alias in aliases
}
LEAD_FIELDS = ("full_name", "email", "company", "phone", "job_title", "country")
MAX_LENGTHS = {name: Lead._meta.get_field(name).max_length for name in LEAD_FIELDS}
MAX_COMPANY_SIZE = 2_147_483_647  # PositiveIntegerField in PostgreSQL
# "1200", or thousands grouped the English, German or Swiss way: "1,200", "1.200", "1'200", "1 200".
WHOLE_NUMBER = re.compile(r"\d+|\d{1,3}(?:([,.' ])\d{3})(?:\1\d{3})*")
# Signatures of the binary files people pick by mistake: workbooks, PDFs, images.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
_validate_email = EmailValidator()


class ImportRejected(Exception):
    """The whole file (or the request) is refused; the message is for the user."""


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class Row:
    """One data line of the file: its values as written, and either the lead it makes or its problems."""

    line: int
    values: list[str]
    lead: LeadData | None
    problems: tuple[Problem, ...] = ()


@dataclass
class ParsedFile:
    encoding: str
    delimiter: str
    header: list[str]
    column_problems: list[Problem] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def valid_leads(self) -> list[LeadData]:
        return [row.lead for row in self.rows if row.lead is not None]

    @property
    def bad_rows(self) -> list[Row]:
        return [row for row in self.rows if row.lead is None]

    def problems(self) -> Iterator[Problem]:
        """Every problem in file order: the header's first, then each bad row's."""
        yield from self.column_problems
        for row in self.rows:
            yield from row.problems


# --- Reading the file ---------------------------------------------------------------------------


def decode(content: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read in.

    UTF-8 (with or without a byte order mark) first; a file that is not valid UTF-8 was most likely
    saved by Excel on Windows, so Windows-1252 next (Latin-1 plus €, curly quotes and dashes), then
    plain Latin-1, which reads any byte. Binary files are refused before any of that.
    """
    for signature, kind in BINARY_SIGNATURES.items():
        if content.startswith(signature):
            raise ImportRejected(f"This is {kind}, not a CSV file. In Excel, use “Save as” → “CSV” and upload that.")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise ImportRejected("This file says it is UTF-16 but cannot be read as such.") from exc
    if b"\x00" in content:
        raise ImportRejected("This is a binary file, not a CSV file (a CSV file is plain text).")
    try:
        text, encoding = content.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        try:
            text, encoding = content.decode("cp1252"), "Windows-1252 (Latin-1)"
        except UnicodeDecodeError:
            text, encoding = content.decode("latin-1"), "Latin-1"
    if _looks_binary(text):
        raise ImportRejected("This file is not text in a known encoding (UTF-8 or Latin-1), so it is not a CSV file.")
    return text, encoding


def _looks_binary(text: str) -> bool:
    """Control characters are rare in text (a stray one is forgiven) and common in binary formats."""
    sample = text[:65536]
    controls = sum(1 for char in sample if (ord(char) < 32 and char not in "\t\n\r\f") or 127 <= ord(char) < 160)
    return controls > 10 + len(sample) // 100


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first non-blank line (the header) into the most columns."""
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")
    widths = {delimiter: len(next(csv.reader([first_line], delimiter=delimiter), [])) for delimiter in DELIMITERS}
    return max(DELIMITERS, key=lambda delimiter: widths[delimiter])  # ties go to the first, the comma


def _header_key(name: str) -> str:
    """'E-Mail', ' e_mail ', 'E-MAIL:' → 'e mail'."""
    return re.sub(r"[\s_\-.:*/]+", " ", name.casefold()).strip()


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, values) of each non-blank record; a quoted value may span several lines."""
    at_end = False

    def lines():
        nonlocal at_end
        yield from io.StringIO(text, newline="")
        at_end = True

    reader = csv.reader(lines(), delimiter=delimiter)
    line = 1
    unclosed = "From line {} on the file cannot be read: a quoted value never ends (a missing closing quote?)."
    try:
        for record in reader:
            if at_end:
                # A record ends at its line's end, unless a quote is still open: then the reader took
                # the rest of the file as one value. Refused rather than silently losing those rows.
                raise ImportRejected(unclosed.format(line))
            # Blank lines, and lines of only delimiters as spreadsheets write empty rows.
            if any(value.strip() for value in record):
                # A file we wrote (the bad-rows download) comes back with its original values.
                yield line, [restore_cell(value) for value in record]
            line = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ImportRejected(unclosed.format(line)) from exc
        raise ImportRejected(f"Line {line} cannot be read as CSV: {exc}.") from exc


@dataclass(frozen=True)
class _Columns:
    """Where each lead field is in the file, and the header names to use in messages."""

    index: dict[str, int]
    label: dict[str, str]

    @classmethod
    def from_header(cls, header: list[str], line: int) -> tuple["_Columns", list[Problem]]:
        index: dict[str, int] = {}
        label: dict[str, str] = {}
        problems = []
        for position, raw in enumerate(header):
            name = raw.strip()
            target = ALIASES.get(_header_key(name))
            if not name:
                problems.append(Problem(line, f"column {position + 1}", "column without a name, ignored"))
            elif target is None:
                problems.append(Problem(line, name, "unknown column, ignored"))
            elif target in index:
                problems.append(Problem(line, name, f"second “{label[target]}” column, ignored"))
            else:
                index[target], label[target] = position, name
        if "full_name" not in index and {"first_name", "last_name"} & set(index):
            label["full_name"] = " + ".join(label[part] for part in ("first_name", "last_name") if part in index)
        missing = [what for what, key in (("email", "email"), ("name", "full_name")) if key not in label]
        if missing:
            found = ", ".join(f"“{name.strip()}”" for name in header if name.strip()) or "none"
            if not index and any("@" in name for name in header):
                raise ImportRejected(
                    "The first line looks like a lead, not like column names. Add a header row "
                    "(for example: Name, Email, Company) and upload again."
                )
            raise ImportRejected(
                f"The file has no {' and no '.join(missing)} column (columns found: {found}). "
                "The first line must name the columns; Email and Name (or First name and Last name) are required."
            )
        return cls(index=index, label=label), problems


def _value(record: list[str], position: int | None) -> str:
    if position is None or position >= len(record):
        return ""
    return record[position].strip()


def _validate(record: list[str], line: int, columns: _Columns, width: int) -> Row:
    if len(record) > width and any(value.strip() for value in record[width:]):
        # The values are shifted: checking them column by column would only add confusing problems.
        reason = f"{len(record)} values but {width} columns (an unquoted delimiter in a value?)"
        return Row(line=line, values=record, lead=None, problems=(Problem(line, "(whole line)", reason),))
    at, label = columns.index.get, columns.label
    values = {name: _value(record, at(name)) for name in LEAD_FIELDS}
    if not values["full_name"]:
        values["full_name"] = " ".join(
            filter(None, (_value(record, at("first_name")), _value(record, at("last_name"))))
        )
    problems = []
    for name in LEAD_FIELDS:
        if len(values[name]) > MAX_LENGTHS[name]:
            problems.append(
                Problem(line, label[name], f"too long ({len(values[name])} characters, at most {MAX_LENGTHS[name]})")
            )
    if not values["full_name"]:
        problems.append(Problem(line, label["full_name"], "missing name"))
    email = values["email"]
    if not email:
        problems.append(Problem(line, label["email"], "missing email"))
    elif len(email) <= MAX_LENGTHS["email"]:
        try:
            _validate_email(email)
        except ValidationError:
            problems.append(Problem(line, label["email"], f"invalid email “{email}”"))
    company_size = None
    size = _value(record, at("company_size"))
    if size:
        match = WHOLE_NUMBER.fullmatch(size)
        if match is None:
            problems.append(Problem(line, label["company_size"], f"company size “{size}” is not a whole number"))
        else:
            company_size = int(re.sub(r"\D", "", size))
            if company_size > MAX_COMPANY_SIZE:
                problems.append(Problem(line, label["company_size"], "company size is too large"))
    if problems:
        return Row(line=line, values=record, lead=None, problems=tuple(problems))
    return Row(line=line, values=record, lead=LeadData(company_size=company_size, **values))


def parse(content: bytes) -> ParsedFile:
    """Read and check a whole CSV file. Raises ImportRejected when it is no CSV file of leads at all;
    otherwise every row is either a valid lead or a bad row with its problems."""
    if len(content) > MAX_BYTES:
        raise ImportRejected(f"The file is {len(content) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    text, encoding = decode(content)
    if not text.strip():
        raise ImportRejected("The file is empty.")
    delimiter = sniff_delimiter(text)
    records = _records(text, delimiter)
    header_line, header = next(records, (0, []))
    if not header:
        raise ImportRejected("The file is empty.")
    columns, column_problems = _Columns.from_header(header, header_line)
    parsed = ParsedFile(encoding=encoding, delimiter=delimiter, header=header, column_problems=column_problems)
    parsed.rows = [_validate(record, line, columns, len(header)) for line, record in records]
    if not parsed.rows:
        raise ImportRejected("The file has a header row but no leads under it.")
    return parsed


def bad_rows_table(parsed: ParsedFile) -> list[list[str]]:
    """The header and the bad rows, as they were written plus an 'error' column, to fix and upload again
    (write them with `common.spreadsheet` and the upload's delimiter; an old error column is replaced)."""
    error_at = next((i for i, name in enumerate(parsed.header) if ALIASES.get(_header_key(name)) == "error"), None)
    keep = [i for i in range(len(parsed.header)) if i != error_at]
    table = [[*(parsed.header[i] for i in keep), "error"]]
    for row in parsed.bad_rows:
        values = row.values + [""] * (len(parsed.header) - len(row.values))
        extra = values[len(parsed.header) :]
        reasons = "; ".join(f"{problem.column}: {problem.reason}" for problem in row.problems)
        table.append([*(values[i] for i in keep), *extra, reasons])
    return table


# --- Services ---------------------------------------------------------------------------------------


def import_create(*, campaign: Campaign, filename: str, content: bytes, actor) -> ImportJob:
    """Check an uploaded file and keep it, with its problems, for the preview. Raises ImportRejected."""
    parsed = parse(content)
    problems = list(parsed.problems())
    return ImportJob.objects.create(
        campaign=campaign,
        created_by=actor,
        filename=filename[-255:],
        content=content,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        total_rows=len(parsed.rows),
        valid_rows=len(parsed.rows) - len(parsed.bad_rows),
        errors=[problem.as_dict() for problem in islice(problems, ERRORS_KEPT)],
        problem_count=len(problems),
    )


def import_confirm(*, job: ImportJob, actor) -> ImportJob:
    """Queue the import of a previewed job (or retry a failed one, which imported nothing).

    A job is queued once: a second confirmation, from the same marketer or another, raises
    ImportRejected and queues nothing.
    """
    if job.valid_rows == 0:
        raise ImportRejected("This file has no valid rows to import; fix the bad rows and upload it again.")
    with transaction.atomic():
        queued = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportJob.Status.PREVIEW, ImportJob.Status.FAILED], purged_at__isnull=True
        ).update(
            status=ImportJob.Status.QUEUED,
            confirmed_by=actor,
            confirmed_at=timezone.now(),
            processed_rows=0,
            failure="",
        )
        if not queued:
            job.refresh_from_db(fields=["status", "purged_at"])
            if job.purged_at:
                raise ImportRejected(PURGED)
            raise ImportRejected(f"This import was already confirmed (it is {job.get_status_display().lower()}).")
        outbox_send(tasks.import_leads, job.pk)
    job.refresh_from_db()
    return job


def import_run(*, job_id: int) -> None:
    """Import the valid rows of a queued job in one transaction, with progress visible meanwhile.

    Safe to run twice, at once or one after the other: a conditional update claims the job
    (queued → running), and a transaction-scoped advisory lock on the job lets only one run import
    it; whoever gets the lock re-reads the status and imports only a job still running, so a job
    whose worker died mid-import (rolled back, still 'running') is picked up by the redelivery.
    On any error nothing is imported and the job is marked failed with a message for the user.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    try:
        with transaction.atomic():
            if not _lock_job(job_id, wait=bool(claimed)):
                return  # another delivery is importing it right now
            job = (
                ImportJob.objects.select_related("campaign", "created_by", "confirmed_by")
                .filter(pk=job_id, status=ImportJob.Status.RUNNING)
                .first()
            )
            if job is None:
                return  # done (or failed) already, or never confirmed
            created, again = _capture(job)
            job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
            job.created_count, job.duplicate_count, job.processed_rows = created, again, created + again
            job.save(update_fields=["status", "finished_at", "created_count", "duplicate_count", "processed_rows"])
    except Exception as exc:
        logger.exception("Import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            failure=f"The import stopped with an error ({type(exc).__name__}); nothing was imported. "
            "Try again; if it fails again, the worker's log has the details.",
        )


IMPORT_LOCK_SPACE = 0x1A7B0  # first key of the two-key advisory locks, so ours never meet anyone else's


def _lock_job(job_id: int, *, wait: bool) -> bool:
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK_SPACE, job_id % 2**31])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [IMPORT_LOCK_SPACE, job_id % 2**31])
        return cursor.fetchone()[0]


def _capture(job: ImportJob) -> tuple[int, int]:
    """Capture the job's valid rows chunk by chunk inside the caller's transaction (one for all)."""
    rows = import_parsed(job).valid_leads
    actor = job.confirmed_by or job.created_by
    created = again = 0
    with _progress_writer(job.pk) as report:
        report(0)
        for start in range(0, len(rows), PROGRESS_CHUNK):
            c, a = leads_capture_bulk(
                campaign=job.campaign, rows=rows[start : start + PROGRESS_CHUNK], actor=actor, source=Lead.Source.IMPORT
            )
            created, again = created + c, again + a
            report(created + again)
    return created, again


@contextlib.contextmanager
def _progress_writer(job_id: int):
    """Write processed_rows on a connection of its own, in autocommit.

    The import is one transaction, and nothing written inside it is visible to anyone before it
    commits; progress written from this second connection is seen by the page at once. It only
    touches the job row, which the import transaction does not lock until its last statement.
    """
    side = connections.create_connection(DEFAULT_DB_ALIAS)

    def report(processed: int) -> None:
        with side.cursor() as cursor:
            cursor.execute("UPDATE campaigns_importjob SET processed_rows = %s WHERE id = %s", [processed, job_id])

    try:
        yield report
    finally:
        side.close()


# --- Queries -------------------------------------------------------------------------------------


def import_parsed(job: ImportJob) -> ParsedFile:
    """The job's stored file, read again exactly as for the preview. Raises ImportRejected, also when
    the retention job has dropped the file."""
    if job.purged_at:
        raise ImportRejected(PURGED)
    return parse(bytes(job.content))


def imports_of_campaign(campaign: Campaign) -> QuerySet[ImportJob]:
    """The campaign's imports, newest first, without the files themselves."""
    return campaign.imports.select_related("created_by").defer("content", "errors").order_by("-created_at", "-id")
