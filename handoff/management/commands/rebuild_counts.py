from django.core.management.base import BaseCommand

from handoff.counts import counts_rebuild
from leads.tally import lead_tally_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the read models from their source, e.g. after a restore: the timeline's counts "
        "(handoff_eventcount) from the timeline, the deadlines' outcomes (handoff_deadlineoutcome) from "
        "the deadlines, the lead tallies (leads_leadtally) from the leads."
    )

    def handle(self, *args, **options):
        rows = counts_rebuild()
        tallies = lead_tally_rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"Counts rebuilt from the timeline: {rows} rows; lead tallies: {tallies} rows.")
        )
