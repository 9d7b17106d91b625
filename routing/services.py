"""The doors for time off (adding, removing a rep's days off), a rep's own working hours, and for
publishing routing rules."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from people.roles import Role, has_role
from sla.calendar import CalendarError
from sla.models import BusinessCalendar

from .models import RoutingRule, RuleSet, TimeOff, WorkingHours


def _may_set_for(actor, rep) -> bool:
    """A rep sets their own time off; a manager sets anyone's."""
    return actor == rep or has_role(actor, Role.MANAGERS)


def time_off_add(*, actor, rep, starts_on: datetime.date, ends_on: datetime.date, note: str = "") -> TimeOff:
    """Record days off for `rep` (both dates included). Raises PermissionDenied for anyone else's
    time off unless `actor` is a manager."""
    if not _may_set_for(actor, rep):
        raise PermissionDenied("Only managers set another rep's time off.")
    time_off = TimeOff(rep=rep, starts_on=starts_on, ends_on=ends_on, note=note, created_by=actor)
    time_off.full_clean()
    with transaction.atomic():
        time_off.save()
    return time_off


def time_off_remove(*, actor, time_off_id: int) -> None:
    """Remove days off (the rep's own, or anyone's for a manager). Raises TimeOff.DoesNotExist when
    there is none the actor may remove, so nobody learns of others' time off by trying ids."""
    time_off = TimeOff.objects.select_related("rep").get(pk=time_off_id)
    if not _may_set_for(actor, time_off.rep):
        raise TimeOff.DoesNotExist
    time_off.delete()


def working_hours_set(*, actor, rep, hours: dict[int, tuple[datetime.time, datetime.time]]) -> None:
    """Replace `rep`'s own working hours with `hours` ({weekday: (starts, ends)}, wall times in their
    team calendar's zone); empty hours mean their team's. Raises PermissionDenied for anyone else's
    hours unless `actor` is a manager, and ValidationError for hours that never meet the team's
    calendar (routing would never pick the rep)."""
    if not _may_set_for(actor, rep):
        raise PermissionDenied("Only managers set another rep's working hours.")
    rows = [WorkingHours(rep=rep, weekday=day, starts=starts, ends=ends) for day, (starts, ends) in hours.items()]
    for row in rows:
        row.full_clean(exclude=["rep"], validate_unique=False)
    if rows:
        team_calendar = BusinessCalendar.objects.spec_for(rep)
        try:
            team_calendar.within({row.weekday: [(row.starts, row.ends)] for row in rows})
        except CalendarError as exc:
            raise ValidationError(
                "These hours never meet the team's opening hours: routing would never pick this rep."
            ) from exc
    with transaction.atomic():
        WorkingHours.objects.filter(rep=rep).delete()
        WorkingHours.objects.bulk_create(rows)


RULE_FIELDS = (
    "name",
    "campaign",
    "channel",
    "source",
    "tier",
    "min_company_size",
    "max_company_size",
    "countries",
    "title_words",
    "company_words",
    "team",
    "rep",
)


def rules_publish(
    *, actor, rules: list[dict], note: str = "", owner_match_days: int = 90, rebalance: str = RuleSet.Rebalance.PROPOSE
) -> RuleSet:
    """Publish `rules` (dicts of RULE_FIELDS, in the order they are tried) as the next version of the
    routing rules. Raises PermissionDenied for anyone but a manager, ValidationError for a setting out
    of range, and RulesChanged if another version was published meanwhile (the caller shows the page
    again)."""
    if not has_role(actor, Role.MANAGERS):
        raise PermissionDenied("Only managers publish routing rules.")
    try:
        with transaction.atomic():
            latest = RuleSet.objects.order_by("-version").values_list("version", flat=True).first() or 0
            ruleset = RuleSet(
                version=latest + 1, created_by=actor, note=note, owner_match_days=owner_match_days, rebalance=rebalance
            )
            ruleset.full_clean()
            ruleset.save()
            made = [RoutingRule(ruleset=ruleset, position=index, **rule) for index, rule in enumerate(rules, start=1)]
            for rule in made:
                rule.full_clean(exclude=["ruleset"])
            RoutingRule.objects.bulk_create(made)
    except IntegrityError as exc:
        raise RulesChanged("Another manager published the routing rules just now; check them and save again.") from exc
    return ruleset


class RulesChanged(Exception):
    """Two managers published at once: the second must look again."""
