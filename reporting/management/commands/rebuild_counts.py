from django.core.management.base import BaseCommand

from reporting.rebuild import read_models_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the read models from their source, e.g. after a restore: the timeline's counts "
        "(handoff_eventcount) from the timeline, the deadlines' outcomes (handoff_deadlineoutcome) from "
        "the deadlines, the monthly and weekly sums of both (leads_eventmonthcount, leads_eventweekcount, "
        "reporting_deadlineoutcomemonth, reporting_deadlineoutcomeweek) from them, the hand-offs' "
        "acceptance per day (reporting_acceptanceday) from the hand-offs and their claim clocks, the "
        "escalation steps done per day of their breached deadlines' due time (reporting_escalationday) "
        "from the steps and their deadlines, the met deadlines' business times per day and bucket "
        "(reporting_mettimeday) from the deadlines and their months (reporting_mettimemonth), the lead "
        "tallies (leads_leadtally) from the leads."
    )

    def handle(self, *args, **options):
        rows = read_models_rebuild()
        counted = rows["counts"] + rows["outcomes"] + rows["acceptance"] + rows["escalations"] + rows["met times"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Counts rebuilt from the timeline: {counted} rows; lead tallies: {rows['tallies']} rows."
            )
        )
