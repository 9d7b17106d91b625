"""Retention: a daily job drops upload files and idempotency records past their time, and keeps what
the import's page and the leads' timelines show."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from campaigns.imports import ImportRejected, import_confirm, import_create
from campaigns.models import ImportJob, IntakeRequest
from campaigns.retention import Purged, retention_purge
from campaigns.tasks import purge_expired_data
from conftest import CampaignFactory

DAY = datetime.timedelta(days=1)
FILE = b"Name,Email\nAda,ada@example.com\nBob,bob(at)example.com\n"

pytestmark = pytest.mark.django_db


def upload(campaign, actor, *, days_ago: float, status=ImportJob.Status.PREVIEW) -> ImportJob:
    job = import_create(campaign=campaign, filename="fair.csv", content=FILE, actor=actor)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - days_ago * DAY, status=status)
    job.refresh_from_db()
    return job


def idempotency_record(campaign, key: str, *, days_ago: float) -> IntakeRequest:
    return IntakeRequest.objects.create(
        campaign=campaign,
        idempotency_key=key,
        status_code=201,
        response={"id": 1, "created": True},
        created_at=timezone.now() - days_ago * DAY,
    )


@pytest.fixture
def retention(settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    settings.INTAKE_IDEMPOTENCY_RETENTION_DAYS = 7


class TestImportFiles:
    def test_old_files_are_dropped_and_the_jobs_counts_and_problems_stay(self, retention, campaign, marketer):
        # Given uploads 31 days old (previewed, imported, failed) and one of yesterday
        old = [upload(campaign, marketer, days_ago=31, status=status) for status in ("preview", "done", "failed")]
        recent = upload(campaign, marketer, days_ago=1)

        # When the retention job runs
        purged = retention_purge(now=timezone.now())

        # Then the old files are gone, the jobs keep what their page shows, the recent file stays
        assert purged.import_files == 3
        for job in old:
            job.refresh_from_db()
            assert bytes(job.content) == b"" and job.purged_at is not None
            assert (job.total_rows, job.valid_rows, job.problem_count) == (2, 1, 1)
            assert job.errors == [{"line": 3, "column": "Email", "reason": "invalid email “bob(at)example.com”"}]
        recent.refresh_from_db()
        assert bytes(recent.content) == FILE and recent.purged_at is None

    @pytest.mark.parametrize("status", [ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
    def test_an_import_under_way_keeps_its_file(self, retention, campaign, marketer, status):
        job = upload(campaign, marketer, days_ago=90, status=status)
        assert retention_purge(now=timezone.now()).import_files == 0
        job.refresh_from_db()
        assert bytes(job.content) == FILE

    def test_the_retention_is_configurable(self, settings, campaign, marketer):
        settings.IMPORT_FILE_RETENTION_DAYS = 2
        upload(campaign, marketer, days_ago=3)
        assert retention_purge(now=timezone.now()).import_files == 1

    def test_a_dropped_file_cannot_be_imported_or_downloaded_and_the_page_says_why(
        self, client, retention, campaign, marketer
    ):
        job = upload(campaign, marketer, days_ago=31)
        retention_purge(now=timezone.now())
        job.refresh_from_db()
        client.force_login(marketer)

        page = client.get(job.get_absolute_url()).content.decode()
        assert "The uploaded file was dropped on" in page and "Upload the file again" in page
        assert "invalid email “bob(at)example.com”" in page  # the problems stay listed
        assert reverse("campaigns:import_confirm", args=[job.pk]) not in page
        assert reverse("campaigns:import_errors", args=[job.pk]) not in page

        response = client.get(reverse("campaigns:import_errors", args=[job.pk]), follow=True)
        assert "no longer kept" in response.content.decode()
        with pytest.raises(ImportRejected, match="no longer kept"):
            import_confirm(job=job, actor=marketer)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.PREVIEW


class TestIdempotencyRecords:
    def test_old_records_are_deleted_and_recent_ones_kept(self, retention, campaign):
        idempotency_record(campaign, "old", days_ago=8)
        idempotency_record(CampaignFactory(), "old-elsewhere", days_ago=30)
        idempotency_record(campaign, "fresh", days_ago=6)

        assert retention_purge(now=timezone.now()).idempotency_records == 2

        assert list(IntakeRequest.objects.values_list("idempotency_key", flat=True)) == ["fresh"]


def test_the_job_runs_daily_from_beat_and_twice_changes_nothing_more(retention, campaign, marketer):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == purge_expired_data.name)
    assert entry["options"]["expires"] <= 24 * 3600
    upload(campaign, marketer, days_ago=31)
    idempotency_record(campaign, "old", days_ago=8)

    purge_expired_data()

    assert not IntakeRequest.objects.exists()
    assert ImportJob.objects.get().purged_at is not None
    assert retention_purge(now=timezone.now()) == Purged(import_files=0, idempotency_records=0)


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError):
        retention_purge(now=datetime.datetime(2026, 1, 1))  # noqa: DTZ001
