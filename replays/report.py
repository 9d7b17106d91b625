"""A stored replay's figures arranged for its page: side by side, as it happened and under the draft."""

from dataclasses import dataclass

from replays.models import Replay

# The report's tables, in the page's order: (dimension, heading, key order or None to sort by name).
TABLES = (
    ("side", "Each side", ["sales", "marketing"]),
    ("kind", "Each kind of deadline", ["claim", "first_contact", "follow_up"]),
    ("tier", "Each priority tier (sales)", ["hot", "warm", "cold"]),
    ("rep", "Each rep (or marketer, for follow-ups)", None),
    ("team", "Each team", None),
    ("campaign", "Each campaign", None),
)
# The consequences, in the page's order: (count, what it is).
CONSEQUENCES = (
    ("breaches_sales", "Sales breaches the sweep records (claims, first contacts)"),
    ("escalation_steps", "Escalation steps those breaches set off"),
    ("manager_notices", "Managers notified by an escalation step"),
    ("warnings_sales", "Warnings to sales"),
    ("breaches_marketing", "Marketing breaches (returned-lead follow-ups)"),
    ("warnings_marketing", "Warnings to marketing"),
)


def _rate(met: int, decided: int) -> float | None:
    return round(100 * met / decided, 1) if decided else None


@dataclass(frozen=True)
class Line:
    label: str
    decided: int
    met: int
    replayed_decided: int
    replayed_met: int

    @property
    def rate(self) -> float | None:
        return _rate(self.met, self.decided)

    @property
    def replayed_rate(self) -> float | None:
        return _rate(self.replayed_met, self.replayed_decided)

    @property
    def change(self) -> float | None:
        """Points of attainment gained (+) or lost (−) under the draft."""
        if self.rate is None or self.replayed_rate is None:
            return None
        return round(self.replayed_rate - self.rate, 1)


@dataclass(frozen=True)
class Table:
    heading: str
    lines: list[Line]


@dataclass(frozen=True)
class Consequence:
    label: str
    recorded: int
    replayed: int

    @property
    def change(self) -> int:
        return self.replayed - self.recorded


def tables(replay: Replay) -> list[Table]:
    """The attainment tables of a finished replay (empty ones left out)."""
    rows = replay.summary.get("rows", {})
    found = []
    for dimension, heading, order in TABLES:
        lines = {row[0]: Line(*row[1:]) for row in rows.get(dimension, [])}
        if order is None:
            keys = sorted(lines, key=lambda key: lines[key].label.casefold())
        else:
            keys = [key for key in order if key in lines]
        if keys:
            found.append(Table(heading, [lines[key] for key in keys]))
    return found


def consequences(replay: Replay) -> list[Consequence]:
    counts = replay.summary.get("counts", {})
    return [Consequence(label, *counts.get(name, (0, 0))) for name, label in CONSEQUENCES]
