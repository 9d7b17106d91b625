from django.db import models


class SweepHeartbeat(models.Model):
    """The one row the SLA sweep rewrites each time it finishes: how we know the worker is alive.

    A single row (id 1, enforced by the database) rather than a log: the sweep runs every few
    seconds, and all anyone asks is when it last ran and how that run went.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_started_at = models.DateTimeField()
    last_finished_at = models.DateTimeField()
    last_breached = models.PositiveIntegerField(default=0, help_text="Breaches the last sweep recorded.")
    last_duration_ms = models.PositiveIntegerField(default=0)
    runs = models.PositiveBigIntegerField(default=0, help_text="Sweeps finished since the row was created.")

    class Meta:
        db_table = "handoff_sweepheartbeat"  # its table from before it left handoff/
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="sweep_heartbeat_single_row")]

    def __str__(self) -> str:
        return f"SLA sweep last finished {self.last_finished_at:%Y-%m-%d %H:%M:%S}"
