from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A task a request started, written in the request's transaction and published to the broker
    after the commit (`common.outbox`). Redis being down delays it; it never turns a saved change
    into an error, and it is never lost: the relay publishes what is still unpublished, oldest first."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # What the relay reads: the unpublished messages, oldest first (a handful, or none).
            models.Index(fields=["id"], name="outbox_unpublished_idx", condition=models.Q(published_at__isnull=True)),
            # What the relay clears: published messages past keeping.
            models.Index(
                fields=["published_at"], name="outbox_published_idx", condition=models.Q(published_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class AppendOnly(models.Model):
    """A record that is evidence (a timeline, an agreement's record): written once, never edited or
    deleted by the ORM. A trigger in the database refuses it too (see each table's migration)."""

    record_name = "These records"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(f"{self.record_name} are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{self.record_name} are never deleted.")
