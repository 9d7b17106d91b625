"""The models that lived in handoff/ moved to their apps without touching a table or a row.

Given a database with rows in every moved table, migrating back to before the move and forward again
keeps every row, and the moved models' content types (with the permissions granted on them) go to
the new apps and come back. `demo/drills/migrate_from_before_split.sh` does the same on a database
made and seeded by the code from before the split.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import LeadFactory, advance
from enforcement.sweep import sweep_deadlines
from leads.models import Lead

MOVED = {
    "businesscalendar": "sla",
    "openinghours": "sla",
    "calendarholiday": "sla",
    "slapolicy": "sla",
    "handoff": "sla",
    "deadline": "sla",
    "escalation": "sla",
    "sweepheartbeat": "enforcement",
    "notification": "notifications",
    "userpreferences": "notifications",
    "eventcount": "leads",
    "deadlineoutcome": "reporting",
}
BEFORE_THE_MOVE = [
    ("handoff", "0019_handoff_campaign"),
    ("leads", "0019_deal_campaign"),
    ("sla", None),
    ("enforcement", None),
    ("notifications", None),
    ("reporting", None),
]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for model in MOVED:
            cursor.execute(f"SELECT count(*) FROM handoff_{model}")  # noqa: S608 - our own table names
            counts[model] = cursor.fetchone()[0]
    return counts


def app_labels() -> dict[str, str]:
    return dict(ContentType.objects.filter(model__in=MOVED).values_list("model", "app_label"))


@pytest.mark.django_db(transaction=True)
def test_moving_the_models_keeps_every_row_and_their_permissions(marketer, rep, campaign):
    for status in (Lead.Status.HANDED_OFF, Lead.Status.CLAIMED, Lead.Status.CONTACTED):
        advance(LeadFactory(campaign=campaign), status, marketer=marketer, rep=rep)
    with connection.cursor() as cursor:  # every running clock falls due, so the sweep records breaches
        cursor.execute(
            "UPDATE handoff_deadline SET starts_at = now() - interval '2 hours', due_at = now() - interval '1 hour'"
            " WHERE met_at IS NULL"
        )
    sweep_deadlines()
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(Permission.objects.get(codename="view_deadline"))
    rows = row_counts()
    assert all(rows[model] for model in ("slapolicy", "handoff", "deadline", "escalation", "notification")), rows
    assert app_labels() == MOVED

    try:
        migrate(BEFORE_THE_MOVE)
        assert row_counts() == rows
        assert set(app_labels().values()) == {"handoff"}
        assert auditors.permissions.get().content_type.app_label == "handoff"
    finally:
        migrate(latest())

    assert row_counts() == rows
    assert app_labels() == MOVED
    permission = auditors.permissions.get()
    assert (permission.content_type.app_label, permission.codename) == ("sla", "view_deadline")
