"""Data that is only needed for a while, dropped when its time is up (a daily beat job).

- An import's uploaded file (`ImportJob.content`, up to 20 MB) is needed for the preview, the import
  and the bad-rows download. After `IMPORT_FILE_RETENTION_DAYS` it is emptied; the job itself stays
  with its counts and listed problems, so the import's page still says what happened, and the leads'
  timelines never needed the file.
- A web intake's idempotency record (`IntakeRequest`) lets a landing page retry a post safely. After
  `INTAKE_IDEMPOTENCY_RETENTION_DAYS` no retry is coming; the record is deleted. The lead and its
  timeline events are not touched.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from .models import ImportJob, IntakeRequest

logger = logging.getLogger(__name__)

# An import being queued or run still reads its file.
PURGEABLE = (ImportJob.Status.PREVIEW, ImportJob.Status.DONE, ImportJob.Status.FAILED)


@dataclass(frozen=True)
class Purged:
    import_files: int
    idempotency_records: int


def retention_purge(*, now: datetime.datetime) -> Purged:
    """Drop the import files and idempotency records older than their retention at `now`. Safe to run
    any number of times, at once too: each statement only touches what is still there."""
    if now.tzinfo is None:
        raise ValueError("retention_purge needs an aware datetime")
    files_before = now - datetime.timedelta(days=settings.IMPORT_FILE_RETENTION_DAYS)
    records_before = now - datetime.timedelta(days=settings.INTAKE_IDEMPOTENCY_RETENTION_DAYS)
    with transaction.atomic():
        files = ImportJob.objects.filter(
            created_at__lt=files_before, status__in=PURGEABLE, purged_at__isnull=True
        ).update(content=b"", purged_at=now)
    with transaction.atomic():
        records, _ = IntakeRequest.objects.filter(created_at__lt=records_before).delete()
    logger.info("Retention: dropped %d import files and %d idempotency records", files, records)
    return Purged(import_files=files, idempotency_records=records)
