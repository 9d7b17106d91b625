from django.core.management.base import BaseCommand

from handoff.counts import counts_rebuild


class Command(BaseCommand):
    help = "Recompute the timeline's counts (handoff_eventcount) from the timeline, e.g. after a restore."

    def handle(self, *args, **options):
        rows = counts_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Counts rebuilt from the timeline: {rows} rows."))
