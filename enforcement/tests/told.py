"""What tests read of breach notices: a storm's summary tells of many breaches in one notice."""

from django.db.models import Sum

from notifications.models import Notification


def breaches_told(user) -> tuple[int, int]:
    """(breach notices `user` has, breaches they tell of)."""
    notices = Notification.objects.filter(user=user, kind=Notification.Kind.BREACH)
    return notices.count(), notices.aggregate(told=Sum("count"))["told"] or 0
