"""CSV lead import: every defect of a real-world file, preview → confirm → import through the pages,
the bad-rows download, duplicates, the Celery task (idempotent, concurrent, through a real worker),
progress while the one import transaction is open, and who may do any of it."""

import csv
import io
import threading
import time

import pytest
from celery import current_app as app
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns import imports
from campaigns.capture import LeadData, lead_capture
from campaigns.imports import ImportRejected, import_confirm, import_create, import_run, parse
from campaigns.models import ImportJob
from campaigns.tasks import import_leads
from common.spreadsheet import csv_text
from conftest import CampaignFactory, UserFactory
from leads.models import Lead, LeadEvent
from people.roles import Role

S = ImportJob.Status
HEADER = "Name,Email,Company\r\n"


def bad_rows_csv(parsed) -> str:
    """The bad-rows download's text, written as the view writes it."""
    return csv_text(imports.bad_rows_table(parsed), delimiter=parsed.delimiter)


def rows_csv(count: int, *, start: int = 0, domain: str = "fair.example") -> bytes:
    """A clean file of `count` leads with distinct addresses."""
    lines = [f"Lead {i},lead{i}@{domain},Company {i}\r\n" for i in range(start, start + count)]
    return (HEADER + "".join(lines)).encode()


def problems(parsed) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.reason) for p in parsed.problems()]


def upload(client, campaign, content: bytes, name: str = "fair.csv"):
    file = io.BytesIO(content)
    file.name = name
    return client.post(reverse("campaigns:import", args=[campaign.pk]), {"file": file})


def wait_for(condition, timeout: float = 20.0) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass."""
    give_up_at = time.monotonic() + timeout
    while time.monotonic() < give_up_at:
        if condition():
            return True
        time.sleep(0.1)
    return False


def queued_job(campaign, actor, content: bytes) -> ImportJob:
    """An upload a marketer confirmed, without running the on-commit enqueue."""
    job = import_create(campaign=campaign, filename="fair.csv", content=content, actor=actor)
    ImportJob.objects.filter(pk=job.pk).update(status=S.QUEUED, confirmed_by=actor)
    return job


# --- Reading real-world files (pure, no database) ------------------------------------------------


class TestEncodings:
    def test_utf8_with_a_byte_order_mark_keeps_the_first_column_name_clean(self):
        """Excel's 'CSV UTF-8' starts with a BOM; the first header must still be recognised as Name."""
        parsed = parse("\ufeffName,Email\r\nZoë Ünal,zoe@example.com\r\n".encode())

        assert parsed.encoding == "UTF-8"
        assert parsed.valid_leads == [LeadData(full_name="Zoë Ünal", email="zoe@example.com")]

    def test_utf8_without_a_byte_order_mark(self):
        parsed = parse("Name,Email\nJörg Müller,jorg@example.com\n".encode())

        assert parsed.valid_leads[0].full_name == "Jörg Müller"

    def test_latin1_when_the_file_is_not_utf8(self):
        """Excel on Windows saves Western European text as Windows-1252/Latin-1: umlauts and € survive."""
        content = "Name;Email;Company\r\nJörg Müller;jorg@example.com;Café € GmbH\r\n".encode("cp1252")

        parsed = parse(content)

        assert "Latin-1" in parsed.encoding
        assert parsed.valid_leads[0].full_name == "Jörg Müller"
        assert parsed.valid_leads[0].company == "Café € GmbH"

    def test_pure_latin1_bytes_that_windows_1252_does_not_define(self):
        content = "Name,Email,Company\r\nAna,ana@example.com,Acme\x81\r\n".encode("latin-1")

        parsed = parse(content)

        assert parsed.encoding == "Latin-1"
        assert parsed.valid_leads[0].company == "Acme\x81"


class TestLayout:
    def test_semicolons_are_sniffed_and_thousands_separators_read(self):
        """German Excel separates with semicolons; commas then sit unquoted inside values."""
        parsed = parse(b"Name;Email;Company;Employees\nAda;ada@example.com;Acme, Inc.;1.200\n")

        assert parsed.delimiter == ";"
        assert parsed.valid_leads == [
            LeadData(full_name="Ada", email="ada@example.com", company="Acme, Inc.", company_size=1200)
        ]

    def test_quoted_fields_keep_delimiters_quotes_and_newlines_and_lines_stay_real(self):
        """A quoted value may hold the delimiter, doubled quotes and line breaks; the line numbers of
        later rows still match what the user sees in an editor."""
        content = (
            b'Name,Email,Company\r\n"Lovelace, Ada",ada@example.com,"The ""Analytical""\r\nEngine Ltd"\r\n'
            b"Bob,not-an-email,Acme\r\n"
        )

        parsed = parse(content)

        assert parsed.valid_leads[0].full_name == "Lovelace, Ada"
        assert parsed.valid_leads[0].company == 'The "Analytical"\r\nEngine Ltd'
        assert problems(parsed) == [(4, "Email", "invalid email “not-an-email”")]

    def test_blank_lines_are_skipped_but_counted(self):
        """Blank lines, and lines of bare delimiters as spreadsheets write empty rows, are no rows; the
        problem on the last row is reported at its real line, 6."""
        content = b"\r\nName,Email\r\n\r\nAda,ada@example.com\r\n,\r\nBob,\r\n\r\n"

        parsed = parse(content)

        assert len(parsed.rows) == 2
        assert problems(parsed) == [(6, "Email", "missing email")]

    def test_header_names_in_any_case_order_and_spelling(self):
        content = (
            b"TELEPHONE,job_title,E-Mail,Organisation,Full Name,Company Size\n"
            b"+49 30 1234,CTO,ADA@Example.com,Acme,Ada Lovelace,250\n"
        )

        parsed = parse(content)

        assert parsed.column_problems == []
        assert parsed.valid_leads == [
            LeadData(
                full_name="Ada Lovelace",
                email="ADA@Example.com",  # the capture service normalises it
                company="Acme",
                phone="+49 30 1234",
                job_title="CTO",
                company_size=250,
            )
        ]

    def test_first_and_last_name_columns_make_the_name(self):
        parsed = parse(b"First name,Last name,Email\nAda,Lovelace,ada@example.com\n,,bob@example.com\n")

        assert parsed.valid_leads[0].full_name == "Ada Lovelace"
        assert problems(parsed) == [(3, "First name + Last name", "missing name")]

    def test_unknown_columns_are_reported_on_the_header_line_and_rows_stay_valid(self):
        parsed = parse(b"Name,Email,Booth,\nAda,ada@example.com,B12,\n")

        assert problems(parsed) == [
            (1, "Booth", "unknown column, ignored"),
            (1, "column 4", "column without a name, ignored"),
        ]
        assert len(parsed.valid_leads) == 1

    def test_the_error_column_of_our_own_download_is_not_an_unknown_column(self):
        parsed = parse(b"Name,Email,error\nAda,ada@example.com,Email: missing email\n")

        assert problems(parsed) == []
        assert len(parsed.valid_leads) == 1


class TestBadRows:
    def test_every_row_problem_with_its_line_column_and_reason(self):
        long_name = "x" * 201
        content = (
            "Name,E-mail,Company,Employees\n"
            "Ada,ada@example.com,Acme,12\n"
            ",nameless@example.com,Acme,\n"
            "Bob,,Acme,\n"
            "Cy,cy(at)example.com,Acme,\n"
            f"{long_name},long@example.com,Acme,\n"
            "Di,di@example.com,Acme,about 50\n"
            "Ed,ed@example.com,Acme,2.5\n"
            "Fay,fay@example.com,Smith, Jones & Co,40\n"
        ).encode()

        parsed = parse(content)

        assert [lead.email for lead in parsed.valid_leads] == ["ada@example.com"]
        assert problems(parsed) == [
            (3, "Name", "missing name"),
            (4, "E-mail", "missing email"),
            (5, "E-mail", "invalid email “cy(at)example.com”"),
            (6, "Name", "too long (201 characters, at most 200)"),
            (7, "Employees", "company size “about 50” is not a whole number"),
            (8, "Employees", "company size “2.5” is not a whole number"),
            (9, "(whole line)", "5 values but 4 columns (an unquoted delimiter in a value?)"),
        ]

    def test_a_row_with_several_problems_reports_each(self):
        parsed = parse(b"Name,Email,Company\n,,Acme\n")

        assert problems(parsed) == [(2, "Name", "missing name"), (2, "Email", "missing email")]

    def test_the_bad_rows_download_keeps_the_original_values_and_adds_the_error(self):
        parsed = parse(b"\xef\xbb\xbfName;Email;Booth\nAda;ada@example.com;B1\nBob;bob(at)x;B2\n;;B3\n")

        body = bad_rows_csv(parsed)

        assert body.startswith("\ufeff")
        assert list(csv.reader(io.StringIO(body[1:]), delimiter=";")) == [
            ["Name", "Email", "Booth", "error"],
            ["Bob", "bob(at)x", "B2", "Email: invalid email “bob(at)x”"],
            ["", "", "B3", "Name: missing name; Email: missing email"],
        ]

    def test_the_bad_rows_download_neutralises_formulas_and_a_re_upload_restores_them(self):
        """No cell of the download runs in a spreadsheet (OWASP CSV injection); uploading the fixed
        file again reads the values as they were first written, so the fix-and-retry loop round-trips."""
        out = io.StringIO()
        csv.writer(out).writerows(
            [
                ["Name", "Email", "Company", "Phone"],
                ['=HYPERLINK("http://evil.example","Click")', "bad-at-x", "+SUM(A1)", "+49 30 1234"],
                ["@cmd", "-2+3", "\tTabbed", "-5"],
            ]
        )
        original = out.getvalue().encode()
        first = parse(original)

        body = bad_rows_csv(first)

        cells = [cell for row in csv.reader(io.StringIO(body[1:])) for cell in row]
        assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
        rows = list(csv.reader(io.StringIO(body[1:])))
        assert rows[1][:4] == ['\'=HYPERLINK("http://evil.example","Click")', "bad-at-x", "'+SUM(A1)", "'+49 30 1234"]
        assert rows[2][:4] == ["'@cmd", "'-2+3", "'\tTabbed", "'-5"]

        # When the user fixes nothing and uploads the download again
        again = parse(body.encode())

        assert [row.values[:4] for row in again.bad_rows] == [row.values for row in first.bad_rows]
        assert bad_rows_csv(again) == body

    def test_a_fixed_row_imports_with_its_original_phone_number(self):
        first = parse(b"Name,Email,Phone\nAda,ada(at)example.com,+49 30 1234\n")
        fixed = bad_rows_csv(first).replace("ada(at)example.com", "ada@example.com")

        (lead,) = parse(fixed.encode()).valid_leads

        assert lead.phone == "+49 30 1234"

    def test_a_fixed_download_uploaded_again_replaces_its_error_column(self):
        first = parse(b"Name,Email\nBob,\n")
        again = parse(bad_rows_csv(first).encode())

        assert again.header == ["Name", "Email", "error"]
        assert next(csv.reader(io.StringIO(bad_rows_csv(again)[1:]))) == ["Name", "Email", "error"]


class TestRejectedFiles:
    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "empty"),
            (b"\r\n  \r\n", "empty"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
            (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel workbook"),
            (b"Name,Email\x00\x00\x01", "binary file"),
            (bytes(range(1, 32)) * 40, "not text"),
            (b"Name,Email\r\n", "no leads"),
            (b"Ada Lovelace,ada@example.com,Acme\nBob,bob@example.com,Acme\n", "looks like a lead"),
            (b"Name,Company\nAda,Acme\n", "no email column"),
            (b"Email,Company\nada@example.com,Acme\n", "no name column"),
            (b"Foo;Bar\n1;2\n", "no email and no name column"),
        ],
        ids=[
            "empty",
            "blank lines only",
            "image",
            "xlsx",
            "xls",
            "binary",
            "control characters",
            "header only",
            "no header row",
            "no email column",
            "no name column",
            "no known column",
        ],
    )
    def test_files_that_are_no_csv_of_leads_are_refused_with_a_clear_message(self, content, message):
        with pytest.raises(ImportRejected, match=message):
            parse(content)

    def test_a_file_over_20_mb_is_refused(self):
        with pytest.raises(ImportRejected, match="the limit is 20 MB"):
            parse(b"Name,Email\n" + b"x" * imports.MAX_BYTES)

    @pytest.mark.parametrize("end", ["\n", ""], ids=["newline at the end", "no newline at the end"])
    def test_a_quote_that_never_closes_is_refused_rather_than_swallowing_the_rows_after_it(self, end):
        content = f'Name,Email\nAda,ada@example.com\n"Bob,bob@example.com\nCy,cy@example.com{end}'.encode()

        with pytest.raises(ImportRejected, match="From line 3 on .* missing closing quote"):
            parse(content)

    @pytest.mark.parametrize("end", ["\n", ""], ids=["newline at the end", "no newline at the end"])
    def test_the_last_row_is_read_with_or_without_a_final_newline(self, end):
        parsed = parse(f'Name,Email,Company\nAda,ada@example.com,"Acme\nBerlin"{end}'.encode())

        assert parsed.valid_leads == [LeadData("Ada", "ada@example.com", company="Acme\nBerlin")]

    def test_a_quote_that_never_closes_over_a_long_file_is_refused_with_its_line(self):
        content = b'Name,Email\nAda,ada@example.com\n"Bob,bob@example.com\n' + b"Cy,cy@example.com\n" * 10_000

        with pytest.raises(ImportRejected, match="From line 3 on .* missing closing quote"):
            parse(content)


# --- Through the pages ---------------------------------------------------------------------------


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.mark.django_db
class TestPreviewConfirmImport:
    def test_upload_shows_a_preview_and_imports_nothing_yet(self, marketer_client, campaign):
        """The preview counts rows, valid and bad, and lists each problem; no lead exists yet."""
        content = b"Name,Email,Booth\nAda,ada@example.com,B1\nBob,,B2\n\nCy,cy@example.com,B3\n"

        response = upload(marketer_client, campaign, content)

        job = ImportJob.objects.get()
        assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
        assert (job.status, job.total_rows, job.valid_rows, job.bad_rows) == (S.PREVIEW, 3, 2, 1)
        assert job.errors == [
            {"line": 1, "column": "Booth", "reason": "unknown column, ignored"},
            {"line": 3, "column": "Email", "reason": "missing email"},
        ]
        assert Lead.objects.count() == 0
        page = marketer_client.get(job.get_absolute_url())
        assert page.status_code == 200 and "Refresh" not in page
        html = page.content.decode()
        assert "Import 2 leads" in html and "missing email" in html and "unknown column, ignored" in html
        assert reverse("campaigns:import_errors", args=[job.pk]) in html

    def test_confirm_queues_the_task_on_commit_and_the_task_imports_the_valid_rows(
        self, marketer_client, campaign, marketer, django_capture_on_commit_callbacks
    ):
        """Confirming enqueues exactly one task after the commit; it imports the valid rows as IMPORT
        leads created by whoever confirmed, and the page shows the result."""
        upload(marketer_client, campaign, b"Name,Email\nAda,ada@example.com\nBob,bob@example.com\nCy,\n")
        job = ImportJob.objects.get()

        with django_capture_on_commit_callbacks() as callbacks:
            response = marketer_client.post(reverse("campaigns:import_confirm", args=[job.pk]))
        assert response.status_code == 302 and len(callbacks) == 1
        job.refresh_from_db()
        assert (job.status, job.confirmed_by) == (S.QUEUED, marketer)
        assert marketer_client.get(job.get_absolute_url())["Refresh"] == "2"

        import_leads(job.pk)  # what the worker runs (a real worker runs it in TestTask below)

        job.refresh_from_db()
        assert (job.status, job.created_count, job.duplicate_count, job.processed_rows) == (S.DONE, 2, 0, 2)
        assert sorted(Lead.objects.values_list("email", "source", "created_by")) == [
            ("ada@example.com", Lead.Source.IMPORT, marketer.pk),
            ("bob@example.com", Lead.Source.IMPORT, marketer.pk),
        ]
        page = marketer_client.get(job.get_absolute_url())
        assert "Refresh" not in page and "2 new leads" in page.content.decode()

    def test_a_second_confirmation_is_refused_politely(
        self, marketer_client, campaign, manager, client, django_capture_on_commit_callbacks
    ):
        """A double click, or a second marketer confirming the same upload, queues nothing more."""
        upload(marketer_client, campaign, rows_csv(3))
        job = ImportJob.objects.get()
        confirm = reverse("campaigns:import_confirm", args=[job.pk])
        with django_capture_on_commit_callbacks() as callbacks:
            marketer_client.post(confirm)
            client.force_login(manager)
            response = client.post(confirm, follow=True)

        assert len(callbacks) == 1
        assert response.status_code == 200
        assert "already confirmed (it is queued)" in response.content.decode()

    def test_a_file_without_valid_rows_cannot_be_confirmed(self, marketer_client, campaign):
        upload(marketer_client, campaign, b"Name,Email\nAda,\nBob,bob(at)example.com\n")
        job = ImportJob.objects.get()

        response = marketer_client.post(reverse("campaigns:import_confirm", args=[job.pk]), follow=True)

        assert "no valid rows" in response.content.decode()
        job.refresh_from_db()
        assert job.status == S.PREVIEW

    def test_duplicates_in_the_file_and_against_existing_leads_are_captured_again(
        self, marketer_client, campaign, marketer, rep
    ):
        """A known address and an address twice in the file do not become second leads: each repeat is
        a 'captured again' event, and the known lead keeps its owner, status and campaign."""
        other = CampaignFactory(owner=marketer)
        known = lead_capture(campaign=other, actor=marketer, data=LeadData("Known", "known@example.com")).lead
        content = (
            b"Name,Email\nKnown Again,KNOWN@example.com\nAda,ada@example.com\nAda twice, Ada@Example.com \n"
            b"Bob,bob@example.com\n"
        )
        upload(marketer_client, campaign, content)
        job = ImportJob.objects.get()
        import_confirm(job=job, actor=marketer)

        import_run(job_id=job.pk)

        job.refresh_from_db()
        assert (job.created_count, job.duplicate_count) == (2, 2)
        assert Lead.objects.count() == 3
        known.refresh_from_db()
        assert (known.campaign, known.capture_count, known.status) == (other, 2, Lead.Status.NEW)
        assert Lead.objects.get(email="ada@example.com").capture_count == 2
        assert LeadEvent.objects.filter(kind=LeadEvent.Kind.CAPTURED_AGAIN).count() == 2

    def test_the_bad_rows_download(self, marketer_client, campaign):
        """The download is a CSV of the bad rows as written, with the upload's delimiter and an error
        column; it is named after the upload."""
        upload(marketer_client, campaign, b"Name;Email;Booth\nAda;ada@example.com;B1\nBob;;B2\n", name="Messe 2026.csv")
        job = ImportJob.objects.get()

        response = marketer_client.get(reverse("campaigns:import_errors", args=[job.pk]))

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="Messe 2026-errors.csv"' in response["Content-Disposition"]
        body = response.content.decode("utf-8-sig")
        assert list(csv.reader(io.StringIO(body), delimiter=";")) == [
            ["Name", "Email", "Booth", "error"],
            ["Bob", "", "B2", "Email: missing email"],
        ]

    def test_only_the_first_problems_are_listed_on_the_page(self, marketer_client, campaign):
        content = b"Name,Email\n" + b"".join(b"Lead %d,\n" % i for i in range(imports.ERRORS_KEPT + 50))
        upload(marketer_client, campaign, content)
        job = ImportJob.objects.get()

        page = marketer_client.get(job.get_absolute_url()).content.decode()

        assert len(job.errors) == imports.ERRORS_KEPT and job.problem_count == imports.ERRORS_KEPT + 50
        assert f"Only the first {imports.ERRORS_KEPT} of 250 problems are listed" in page

    def test_recent_imports_are_listed_on_the_upload_page(self, marketer_client, campaign, marketer):
        import_create(campaign=campaign, filename="webinar.csv", content=rows_csv(2), actor=marketer)
        elsewhere = import_create(
            campaign=CampaignFactory(owner=marketer), filename="other.csv", content=rows_csv(2), actor=marketer
        )

        page = marketer_client.get(reverse("campaigns:import", args=[campaign.pk])).content.decode()

        assert "webinar.csv" in page and elsewhere.filename not in page


@pytest.mark.django_db
class TestRefusedUploads:
    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "The submitted file is empty."),
            (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
            (b"Name,Company\nAda,Acme\n", "no email column"),
        ],
        ids=["empty", "image", "no email column"],
    )
    def test_a_refused_file_gets_a_message_on_the_form_and_no_job(self, marketer_client, campaign, content, message):
        response = upload(marketer_client, campaign, content)

        assert response.status_code == 200
        assert message in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_a_file_over_20_mb_is_refused_before_it_is_read(self, marketer_client, campaign):
        response = upload(marketer_client, campaign, rows_csv(1) + b"x" * imports.MAX_BYTES)

        assert response.status_code == 200
        assert "the limit is 20 MB" in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_no_file_at_all(self, marketer_client, campaign):
        response = marketer_client.post(reverse("campaigns:import", args=[campaign.pk]), {})

        assert response.status_code == 200 and "This field is required." in response.content.decode()


@pytest.mark.django_db
class TestAccess:
    def pages(self, job):
        return [
            ("get", reverse("campaigns:import", args=[job.campaign_id])),
            ("post", reverse("campaigns:import", args=[job.campaign_id])),
            ("get", reverse("campaigns:import_detail", args=[job.pk])),
            ("post", reverse("campaigns:import_confirm", args=[job.pk])),
            ("get", reverse("campaigns:import_errors", args=[job.pk])),
        ]

    def test_sales_reps_get_403_and_anonymous_users_the_login_page(self, client, rep, campaign, marketer):
        job = import_create(campaign=campaign, filename="fair.csv", content=rows_csv(2), actor=marketer)
        for method, url in self.pages(job):
            response = getattr(client, method)(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
        client.force_login(rep)
        for method, url in self.pages(job):
            assert getattr(client, method)(url).status_code == 403, url
        job.refresh_from_db()
        assert job.status == S.PREVIEW

    def test_managers_and_any_marketer_may_use_an_import(self, client, manager, campaign, marketer):
        job = import_create(campaign=campaign, filename="fair.csv", content=rows_csv(2), actor=marketer)
        colleague = UserFactory(username="colleague", role=Role.MARKETING)
        for user in (manager, colleague):
            client.force_login(user)
            assert client.get(job.get_absolute_url()).status_code == 200
            assert client.get(reverse("campaigns:import_errors", args=[job.pk])).status_code == 200

    def test_confirm_answers_only_post(self, marketer_client, campaign, marketer):
        job = import_create(campaign=campaign, filename="fair.csv", content=rows_csv(2), actor=marketer)

        assert marketer_client.get(reverse("campaigns:import_confirm", args=[job.pk])).status_code == 405

    def test_an_unknown_job_or_campaign_is_404(self, marketer_client):
        assert marketer_client.get(reverse("campaigns:import_detail", args=[999999])).status_code == 404
        assert marketer_client.get(reverse("campaigns:import", args=[999999])).status_code == 404


@pytest.mark.django_db
class TestQueryCounts:
    def test_the_upload_costs_the_same_queries_for_10_or_1000_rows(self, marketer_client, campaign):
        counts = []
        for rows in (10, 1000):
            with CaptureQueriesContext(connection) as queries:
                upload(marketer_client, campaign, rows_csv(rows, start=rows))
            counts.append(len(queries))
        assert counts[0] == counts[1]

    def test_the_import_costs_the_same_queries_for_20_or_500_new_leads(self, campaign, marketer):
        counts = []
        for rows in (20, 500):
            job = queued_job(campaign, marketer, rows_csv(rows, domain=f"{rows}.example"))
            with CaptureQueriesContext(connection) as queries:
                import_run(job_id=job.pk)
            counts.append(len(queries))
            assert ImportJob.objects.get(pk=job.pk).created_count == rows
        assert counts[0] == counts[1]

    def test_the_preview_page_does_not_grow_with_the_problems(
        self, marketer_client, campaign, django_assert_max_num_queries
    ):
        upload(marketer_client, campaign, b"Name,Email\n" + b"".join(b"Lead %d,\n" % i for i in range(300)))
        job = ImportJob.objects.get()

        with django_assert_max_num_queries(6):
            assert marketer_client.get(job.get_absolute_url()).status_code == 200


# --- The task ------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestTask:
    def test_running_the_task_twice_imports_once(self, campaign, marketer):
        """A second delivery of the same job (acks_late redelivers) changes nothing."""
        job = queued_job(campaign, marketer, rows_csv(5))

        import_run(job_id=job.pk)
        events = LeadEvent.objects.count()
        import_run(job_id=job.pk)

        job.refresh_from_db()
        assert (job.status, job.created_count) == (S.DONE, 5)
        assert Lead.objects.count() == 5 and LeadEvent.objects.count() == events

    def test_a_job_not_confirmed_or_gone_is_left_alone(self, campaign, marketer):
        job = import_create(campaign=campaign, filename="fair.csv", content=rows_csv(2), actor=marketer)

        import_run(job_id=job.pk)
        import_run(job_id=job.pk + 1000)

        job.refresh_from_db()
        assert job.status == S.PREVIEW and not Lead.objects.exists()

    def test_a_job_whose_worker_died_is_imported_by_the_redelivery(self, campaign, marketer):
        """A worker killed mid-import leaves the job 'running' with its transaction rolled back and its
        advisory lock released; the redelivered task finds the lock free and imports it."""
        job = queued_job(campaign, marketer, rows_csv(3))
        ImportJob.objects.filter(pk=job.pk).update(status=S.RUNNING, processed_rows=2)

        import_run(job_id=job.pk)

        job.refresh_from_db()
        assert (job.status, job.created_count, job.processed_rows) == (S.DONE, 3, 3)

    def test_a_failure_imports_nothing_and_tells_the_user(self, campaign, marketer, monkeypatch, client):
        """The second chunk fails after the first was captured: the one transaction rolls back, the
        job is failed with a message on its page, and it can be tried again."""
        real_capture = imports.leads_capture_bulk
        calls = []

        def capture_then_fail(**kwargs):
            calls.append(real_capture(**kwargs))
            if len(calls) == 2:
                raise RuntimeError("the database went away")
            return calls[-1]

        monkeypatch.setattr(imports, "PROGRESS_CHUNK", 2)
        monkeypatch.setattr(imports, "leads_capture_bulk", capture_then_fail)
        job = queued_job(campaign, marketer, rows_csv(5))

        import_run(job_id=job.pk)

        job.refresh_from_db()
        assert job.status == S.FAILED and "nothing was imported" in job.failure
        assert not Lead.objects.exists() and not LeadEvent.objects.exists()
        client.force_login(marketer)
        page = client.get(job.get_absolute_url()).content.decode()
        assert "nothing was imported" in page and "Try again" in page

        monkeypatch.setattr(imports, "leads_capture_bulk", real_capture)
        import_confirm(job=job, actor=marketer)
        import_run(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.created_count, job.failure) == (S.DONE, 5, "")


@pytest.mark.django_db(transaction=True)
class TestTaskAcrossConnections:
    def test_a_real_worker_imports_a_confirmed_upload(self, marketer, campaign):
        """Confirming sends import_leads through Redis to a running Celery worker, which imports."""
        job = import_create(campaign=campaign, filename="fair.csv", content=rows_csv(30), actor=marketer)

        with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, loglevel="WARNING"):
            import_confirm(job=job, actor=marketer)  # autocommit: the task is sent at once
            done = wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == S.DONE)

        assert done, "the worker did not import within 20 s"
        job.refresh_from_db()
        assert (job.created_count, job.processed_rows) == (30, 30)
        assert Lead.objects.filter(campaign=campaign, source=Lead.Source.IMPORT).count() == 30

    def test_two_deliveries_at_once_import_once(self, marketer, campaign):
        """Two workers running the same job at the same moment: one imports, the other returns."""
        job = queued_job(campaign, marketer, rows_csv(200))
        start = threading.Barrier(2)

        def deliver():
            try:
                start.wait()
                import_run(job_id=job.pk)
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        job.refresh_from_db()
        assert (job.status, job.created_count, job.duplicate_count) == (S.DONE, 200, 0)
        assert Lead.objects.count() == 200
        assert LeadEvent.objects.filter(kind=LeadEvent.Kind.CAPTURED_AGAIN).count() == 0

    def test_progress_is_visible_while_the_one_import_transaction_is_open(self, marketer, campaign, monkeypatch):
        """While the import waits half-way (a lead it must capture again is locked by someone else),
        other connections see its progress but none of its leads: those appear all at once on commit."""
        monkeypatch.setattr(imports, "PROGRESS_CHUNK", 2)
        known = lead_capture(campaign=campaign, actor=marketer, data=LeadData("Known", "known@example.com")).lead
        job = queued_job(
            campaign,
            marketer,
            HEADER.encode() + b"Ada,ada@example.com,\nBob,bob@example.com,\nKnown,known@example.com,\n",
        )

        def run():
            try:
                import_run(job_id=job.pk)
            finally:
                connection.close()

        with transaction.atomic():
            Lead.objects.select_for_update().get(pk=known.pk)
            worker = threading.Thread(target=run)
            worker.start()
            halfway = wait_for(lambda: ImportJob.objects.get(pk=job.pk).processed_rows == 2, timeout=10)
            seen = ImportJob.objects.get(pk=job.pk)
            leads_seen = Lead.objects.count()
        worker.join(timeout=30)

        assert halfway, "no progress was visible while the import ran"
        assert (seen.status, seen.progress_percent, leads_seen) == (S.RUNNING, 66, 1)
        job.refresh_from_db()
        assert (job.status, job.created_count, job.duplicate_count, job.processed_rows) == (S.DONE, 2, 1, 3)
        assert Lead.objects.count() == 3
