"""The SLA's priority tiers: a lead's score puts it in one, and the policy gives hotter leads less time."""

from django.db import models


class Priority(models.TextChoices):
    """Tiers of the score; the SLA gives hotter leads less time."""

    HOT = "hot", "Hot"
    WARM = "warm", "Warm"
    COLD = "cold", "Cold"


# Lowest score of each tier (cold is everything below warm).
PRIORITY_FLOORS = {Priority.HOT: 80, Priority.WARM: 50, Priority.COLD: 0}


def priority_of(score: int) -> str:
    if score >= PRIORITY_FLOORS[Priority.HOT]:
        return Priority.HOT
    return Priority.WARM if score >= PRIORITY_FLOORS[Priority.WARM] else Priority.COLD
