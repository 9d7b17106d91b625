from django.core.management.base import BaseCommand

from sla.clocks import deadlines_business_seconds_fill


class Command(BaseCommand):
    help = (
        "Set the business time taken on met deadlines that have none (met before the column existed, or "
        "written by a bulk fill), so the dashboard's percentiles count them."
    )

    def handle(self, *args, **options):
        filled = deadlines_business_seconds_fill()
        self.stdout.write(self.style.SUCCESS(f"Business time set on {filled} met deadlines."))
