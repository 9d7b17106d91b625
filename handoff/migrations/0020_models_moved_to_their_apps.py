"""handoff/ is the project package only: its models now live in sla, enforcement, notifications, leads and reporting."""

from django.db import migrations

# Where each model went; its content type (and with it its permissions and admin log entries) follows.
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


def content_types_follow(apps, schema_editor, *, back=False):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app in MOVED.items():
        old, new = ("handoff", app) if not back else (app, "handoff")
        # A content type made for the new app before this ran (it has nothing attached yet) gives way to
        # the old one, which carries the permissions granted so far.
        if ContentType.objects.filter(app_label=old, model=model).exists():
            ContentType.objects.filter(app_label=new, model=model).delete()
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, back=True)


class Migration(migrations.Migration):
    initial = False

    dependencies = [
        ("handoff", "0019_handoff_campaign"),
        ("sla", "0001_initial"),
        ("enforcement", "0001_initial"),
        ("notifications", "0001_initial"),
        ("reporting", "0001_initial"),
        ("leads", "0020_event_counts_moved_in"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # The tables exist (created by handoff's migrations 0001-0019) and keep their names and rows: only
    # Django's idea of which app holds the models changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="calendarholiday",
                    name="calendar",
                ),
                migrations.RemoveField(
                    model_name="openinghours",
                    name="calendar",
                ),
                migrations.RemoveField(
                    model_name="deadline",
                    name="campaign",
                ),
                migrations.RemoveField(
                    model_name="deadline",
                    name="handoff",
                ),
                migrations.RemoveField(
                    model_name="deadline",
                    name="lead",
                ),
                migrations.RemoveField(
                    model_name="deadline",
                    name="owner",
                ),
                migrations.RemoveField(
                    model_name="deadline",
                    name="policy",
                ),
                migrations.RemoveField(
                    model_name="escalation",
                    name="deadline",
                ),
                migrations.RemoveField(
                    model_name="deadlineoutcome",
                    name="campaign",
                ),
                migrations.RemoveField(
                    model_name="deadlineoutcome",
                    name="owner",
                ),
                migrations.RemoveField(
                    model_name="escalation",
                    name="lead",
                ),
                migrations.RemoveField(
                    model_name="eventcount",
                    name="campaign",
                ),
                migrations.RemoveField(
                    model_name="eventcount",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="handoff",
                    name="campaign",
                ),
                migrations.RemoveField(
                    model_name="handoff",
                    name="claimed_by",
                ),
                migrations.RemoveField(
                    model_name="handoff",
                    name="handed_off_by",
                ),
                migrations.RemoveField(
                    model_name="handoff",
                    name="lead",
                ),
                migrations.RemoveField(
                    model_name="handoff",
                    name="policy",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="lead",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="slapolicy",
                    name="created_by",
                ),
                migrations.DeleteModel(
                    name="SweepHeartbeat",
                ),
                migrations.RemoveField(
                    model_name="userpreferences",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="CalendarHoliday",
                ),
                migrations.DeleteModel(
                    name="BusinessCalendar",
                ),
                migrations.DeleteModel(
                    name="OpeningHours",
                ),
                migrations.DeleteModel(
                    name="Deadline",
                ),
                migrations.DeleteModel(
                    name="DeadlineOutcome",
                ),
                migrations.DeleteModel(
                    name="Escalation",
                ),
                migrations.DeleteModel(
                    name="EventCount",
                ),
                migrations.DeleteModel(
                    name="Handoff",
                ),
                migrations.DeleteModel(
                    name="Notification",
                ),
                migrations.DeleteModel(
                    name="SlaPolicy",
                ),
                migrations.DeleteModel(
                    name="UserPreferences",
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
