"""Managers write the SLA in Handoff's own pages: only they get in, each change is a draft that starts as
the next version (never edits one) once both heads signed it, bad input comes back as form errors, and
running deadlines keep their time."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from conftest import PASSWORD, LeadFactory, UserFactory, advance
from people.roles import Role
from sla import agreement
from sla.models import Deadline, Department, DepartmentHead, EscalationStep, PolicyDraft, SlaPolicy
from sla.policies import policy_publish

E = EscalationStep


def signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def form_data(**overrides) -> dict:
    data = {
        "name": "Spring push",
        "claim_hours_hot": "0.5",
        "claim_hours_warm": "2",
        "claim_hours_cold": "6",
        "first_contact_hours_hot": "3",
        "first_contact_hours_warm": "6",
        "first_contact_hours_cold": "20",
        "follow_up_days": "3",
        "acceptance_target_percent": "80",
        "warning_percent": "60",
        "step_1": E.RETURN_TO_QUEUE,
        "step_2": E.NOTIFY_MANAGER,
        "step_3": "",
        "note": "Hot leads go cold within the hour.",
    }
    return {**data, **overrides}


def signed_and_started(draft: PolicyDraft) -> SlaPolicy:
    """Both heads (one manager heading both) sign `draft`, and the start job puts it in force."""
    head = UserFactory(role=Role.MANAGERS)
    for department in Department:
        DepartmentHead.objects.update_or_create(department=department, defaults={"user": head})
        agreement.draft_sign(draft=draft, signer=head, department=department, content_hash=draft.content_hash)
    [policy] = agreement.drafts_start_due()
    return policy


def hand_off(marketer, campaign):
    """A lead handed to sales now, by the lead services (the shared test factories' `advance`)."""
    return advance(LeadFactory(campaign=campaign), "handed_off", marketer=marketer, rep=None)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["sla_policy", "sla_policy_new"])
def test_only_managers_reach_the_policy_pages(client, marketer, rep, manager, name):
    """Anonymous users are sent to log in, marketers and reps get 403, managers get the page."""
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert signed_in(client, marketer).get(url).status_code == 403
    assert signed_in(client, rep).get(url).status_code == 403
    assert signed_in(client, manager).get(url).status_code == 200


@pytest.mark.django_db
def test_a_rep_cannot_publish_a_policy(client, rep):
    before = SlaPolicy.current().version
    assert signed_in(client, rep).post(reverse("sla_policy_new"), form_data()).status_code == 403
    assert SlaPolicy.objects.order_by("-version").first().version == before


@pytest.mark.django_db
def test_the_form_is_prefilled_from_the_policy_in_force(client, manager):
    current = policy_publish(
        actor=manager,
        claim_hours_hot=Decimal("1.5"),
        follow_up_days=7,
        escalation_steps=[E.REASSIGN, E.NOTIFY_MANAGER],
        note="Earlier change",
    )
    form = signed_in(client, manager).get(reverse("sla_policy_new")).context["form"]
    assert form.initial["claim_hours_hot"] == Decimal("1.5")
    assert form.initial["follow_up_days"] == 7
    assert (form.initial["step_1"], form.initial["step_2"]) == (E.REASSIGN, E.NOTIFY_MANAGER)
    assert "step_3" not in form.initial
    assert form.initial["note"] == "", "each version needs its own reason"
    assert current.version == SlaPolicy.current().version


@pytest.mark.django_db
def test_publishing_makes_the_next_version_and_running_deadlines_keep_their_time(client, manager, marketer, campaign):
    """Given a lead handed off under the policy in force, when a manager drafts a change and both heads
    sign it, then it starts as a new version with the form's values, the running claim deadline is
    untouched, and the next handoff is timed by the new version."""
    old = SlaPolicy.current()
    waiting = hand_off(marketer, campaign)
    old_deadline = Deadline.objects.get(lead=waiting)

    response = signed_in(client, manager).post(reverse("sla_policy_new"), form_data(), follow=True)

    draft = PolicyDraft.objects.get()
    assert response.redirect_chain == [(draft.get_absolute_url(), 302)]
    assert SlaPolicy.current() == old, "a draft changes nothing until both heads sign"
    policy = signed_and_started(draft)
    assert policy == SlaPolicy.current()
    assert policy.version == old.version + 1
    assert (policy.name, policy.created_by, policy.note) == (
        "Spring push",
        manager,
        "Hot leads go cold within the hour.",
    )
    assert (policy.claim_hours_hot, policy.first_contact_hours_cold) == (Decimal("0.5"), Decimal("20"))
    assert (policy.follow_up_days, policy.acceptance_target_percent, policy.warning_percent) == (3, 80, 60)
    assert policy.escalation_steps == [E.RETURN_TO_QUEUE, E.NOTIFY_MANAGER]
    unchanged = Deadline.objects.get(pk=old_deadline.pk)
    assert (unchanged.policy, unchanged.due_at, unchanged.allowed) == (old, old_deadline.due_at, old_deadline.allowed)
    assert Deadline.objects.get(lead=hand_off(marketer, campaign)).policy == policy


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"step_2": E.RETURN_TO_QUEUE}, "step_2", "is already step 1"),
        ({"step_2": "", "step_3": E.REASSIGN}, "step_3", "Step 3 needs step 2 first"),
        ({"step_1": "", "step_2": E.REASSIGN}, "step_2", "Step 2 needs step 1 first"),
        ({"step_1": "fire_everyone"}, "step_1", "Select a valid choice"),
        ({"claim_hours_hot": "0"}, "claim_hours_hot", "greater than or equal to 0.01"),
        ({"first_contact_hours_warm": "-4"}, "first_contact_hours_warm", "greater than or equal to 0.01"),
        ({"claim_hours_cold": "lots"}, "claim_hours_cold", "Enter a number"),
        ({"claim_hours_cold": "99999999"}, "claim_hours_cold", "digits"),
        ({"warning_percent": "0"}, "warning_percent", "greater than or equal to 1"),
        ({"warning_percent": "100"}, "warning_percent", "less than or equal to 99"),
        ({"acceptance_target_percent": "101"}, "acceptance_target_percent", "less than or equal to 100"),
        ({"acceptance_target_percent": "-1"}, "acceptance_target_percent", "greater than or equal to 0"),
        ({"follow_up_days": "0"}, "follow_up_days", "greater than or equal to 1"),
        ({"note": "  "}, "note", "required"),
    ],
)
def test_bad_input_comes_back_as_a_field_error_and_drafts_nothing(client, manager, overrides, field, message):
    before = SlaPolicy.current().version
    response = signed_in(client, manager).post(reverse("sla_policy_new"), form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not PolicyDraft.objects.exists()
    assert SlaPolicy.objects.order_by("-version").first().version == before


@pytest.mark.django_db
def test_no_escalation_at_all_is_a_valid_policy(client, manager):
    signed_in(client, manager).post(reverse("sla_policy_new"), form_data(step_1="", step_2="", step_3=""))
    assert signed_and_started(PolicyDraft.objects.get()).escalation_steps == []


@pytest.mark.django_db
def test_the_service_refuses_a_step_twice(manager):
    before = SlaPolicy.current().version
    with pytest.raises(ValidationError) as refused:
        policy_publish(actor=manager, escalation_steps=[E.REASSIGN, E.REASSIGN], note="Twice")
    assert "escalation_steps" in refused.value.message_dict
    assert SlaPolicy.objects.order_by("-version").first().version == before


@pytest.mark.django_db
def test_the_policy_page_shows_the_version_in_force_and_the_history(client, manager, marketer, campaign):
    """The page shows every value, the steps in order, who published it, its note, and each version
    newest first with the deadlines set under it."""
    first = SlaPolicy.current()
    hand_off(marketer, campaign)
    hand_off(marketer, campaign)
    policy_publish(
        actor=manager,
        claim_hours_warm=Decimal("2.5"),
        escalation_steps=[E.REASSIGN, E.NOTIFY_MANAGER],
        note="Warm <leads> matter",
    )
    hand_off(marketer, campaign)

    response = signed_in(client, manager).get(reverse("sla_policy"))

    html = response.content.decode()
    assert response.context["policy"].version == first.version + 1
    assert [(v.version, v.deadline_count) for v in response.context["versions"]] == [
        (first.version + 1, 1),
        (first.version, 2),
    ]
    assert "2.5" in html and "Warm &lt;leads&gt; matter" in html
    assert html.index(escape(E.REASSIGN.label)) < html.index(escape(E.NOTIFY_MANAGER.label))
    assert escape(E.RETURN_TO_QUEUE.label) not in html
    assert manager.get_full_name() in html


@pytest.mark.django_db
def test_the_policy_page_costs_the_same_queries_for_one_version_or_many(client, manager, marketer, campaign):
    signed_in(client, manager)
    hand_off(marketer, campaign)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("sla_policy")).status_code == 200
        return len(captured)

    before = queries()
    for number in range(4):
        policy_publish(actor=UserFactory(role=Role.MANAGERS), note=f"Change {number}")
        hand_off(marketer, campaign)
    assert len(client.get(reverse("sla_policy")).context["versions"]) == 5
    assert queries() == before


@pytest.mark.django_db(transaction=True)
def test_two_managers_publishing_at_once_get_distinct_versions():
    """Both publish, neither fails on the unique version: the advisory lock makes the second wait."""
    managers = [UserFactory(role=Role.MANAGERS) for _ in range(2)]
    start = SlaPolicy.current().version
    barrier = threading.Barrier(2)
    published, failures = [], []

    def publish(manager):
        try:
            barrier.wait()
            published.append(policy_publish(actor=manager, note=f"By {manager.username}").version)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(manager,)) for manager in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(published) == [start + 1, start + 2]
