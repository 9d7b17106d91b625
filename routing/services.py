"""The doors for time off (adding, removing a rep's days off) and for publishing routing rules."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from people.roles import Role, has_role

from .models import RoutingRule, RuleSet, TimeOff


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
