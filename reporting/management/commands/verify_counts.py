from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from reporting.verify import SAMPLE_CAMPAIGNS, read_models_check


class Command(BaseCommand):
    help = (
        "Check the read models against a rebuild: the last --days of the timeline's and the deadlines' counts, "
        f"and the leads' counts of {SAMPLE_CAMPAIGNS} random campaigns (or --campaign, or --all-campaigns). "
        "Differences are printed, logged and told to the managers (once a day); exits 1 when there are any. "
        "`rebuild_counts` repairs them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=2, help="local days back from today to recount (2)")
        parser.add_argument("--campaign", type=int, action="append", dest="campaigns", help="a campaign id (repeat)")
        parser.add_argument("--all-campaigns", action="store_true", help="recount every campaign's leads")

    def handle(self, *args, days, campaigns, all_campaigns, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        if all_campaigns:
            campaigns = list(Campaign.objects.values_list("pk", flat=True))
        drifts = read_models_check(days=days, campaigns=campaigns)
        for drift in drifts:
            self.stdout.write(str(drift))
        if drifts:
            raise CommandError(f"{len(drifts)} read model rows differ from a rebuild: run manage.py rebuild_counts.")
        self.stdout.write("The read models equal a rebuild of the part checked.")
