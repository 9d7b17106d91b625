"""Capacity, round-robin assignment and a manager's hand: who gets which lead, fairly and safely."""

import datetime
import re
import threading

import pytest
from django.db import connection
from django.urls import reverse

from conftest import LeadFactory, UserFactory, advance, around_the_clock
from leads import services
from leads.models import Lead, LeadEvent, RepProfile, SalesTeam
from leads.transitions import TransitionError
from notifications.models import Notification, UserPreferences
from notifications.tests.delivery import deliver
from people.roles import Role
from sla.models import Deadline

S = Lead.Status


def mql(campaign, marketer):
    return advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)


def waiting(campaign, marketer):
    lead = mql(campaign, marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    lead.refresh_from_db()
    return lead


def team_of(*reps, auto_assign=True, capacity=25):
    team = SalesTeam.objects.create(
        name=f"Team {SalesTeam.objects.count() + 1}", auto_assign=auto_assign, calendar=around_the_clock()
    )
    for rep in reps:
        RepProfile.objects.update_or_create(user=rep, defaults={"team": team, "capacity": capacity})
    return team


def reps(n):
    return [UserFactory(username=f"rr{i}", first_name=f"Rep{i}", role=Role.SALES) for i in range(n)]


@pytest.mark.django_db
class TestCapacity:
    def test_a_rep_at_capacity_cannot_claim_and_is_told_why(self, marketer, rep, campaign):
        RepProfile.objects.create(user=rep, capacity=1)
        services.lead_claim(lead=waiting(campaign, marketer), rep=rep)
        second = waiting(campaign, marketer)

        with pytest.raises(TransitionError, match="at capacity: 1 open leads of 1"):
            services.lead_claim(lead=second, rep=rep)

        second.refresh_from_db()
        assert (second.status, second.owner) == (S.HANDED_OFF, None)

    def test_closing_a_lead_frees_room(self, marketer, rep, campaign):
        RepProfile.objects.create(user=rep, capacity=1)
        first = waiting(campaign, marketer)
        services.lead_claim(lead=first, rep=rep)
        services.lead_return(lead=first, actor=rep, reason="No budget")
        services.lead_claim(lead=waiting(campaign, marketer), rep=rep)

    def test_leads_on_hold_count_towards_capacity(self, marketer, rep, campaign):
        RepProfile.objects.create(user=rep, capacity=1)
        held = waiting(campaign, marketer)
        services.lead_claim(lead=held, rep=rep)
        services.lead_hold(lead=held, actor=rep, reason="Customer on holiday")
        with pytest.raises(TransitionError, match="capacity"):
            services.lead_claim(lead=waiting(campaign, marketer), rep=rep)

    def test_claim_page_tells_the_rep_they_are_at_capacity(self, client, marketer, rep, campaign):
        RepProfile.objects.create(user=rep, capacity=0)
        lead = waiting(campaign, marketer)
        client.force_login(rep)
        response = client.post(reverse("leads:claim", args=[lead.pk]), follow=True)
        assert "at capacity" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_claims_by_one_rep_never_exceed_capacity(marketer, rep, campaign):
    """Two claims by the same rep at the same moment, one slot left: exactly one succeeds."""
    RepProfile.objects.create(user=rep, capacity=1)
    leads = [waiting(campaign, marketer) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes = []

    def claim(lead):
        try:
            start.wait()
            services.lead_claim(lead=lead, rep=rep)
            outcomes.append("claimed")
        except TransitionError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(lead,)) for lead in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("claimed") == 1
    assert Lead.objects.filter(owner=rep, status=S.CLAIMED).count() == 1


@pytest.mark.django_db
class TestRoundRobin:
    def test_leads_go_round_the_team_in_turn(self, marketer, campaign):
        alice, bob, cleo = reps(3)
        team_of(alice, bob, cleo)

        owners = [waiting(campaign, marketer).owner for _ in range(6)]

        assert owners == [alice, bob, cleo, alice, bob, cleo]
        lead = Lead.objects.filter(owner=alice).first()
        event = lead.events.get(kind=LeadEvent.Kind.ASSIGNED)
        assert event.actor is None and "round-robin" in event.note
        assert Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).owner == alice

    def test_of_reps_level_with_their_share_the_one_who_waited_longest_is_next(self, marketer, campaign):
        alice, bob = reps(2)
        team_of(alice, bob)
        waiting(campaign, marketer)  # alice (never assigned before, lowest id)
        # bob has had as many leads as alice, more recently (e.g. before a restart)
        first = RepProfile.objects.get(user=alice)
        RepProfile.objects.filter(user=bob).update(
            routing_pass=first.routing_pass, last_assigned_at=first.last_assigned_at + datetime.timedelta(minutes=1)
        )
        assert waiting(campaign, marketer).owner == alice

    def test_away_and_full_reps_are_skipped(self, marketer, campaign):
        away, full, free = reps(3)
        team_of(away, full, free, capacity=1)
        RepProfile.objects.filter(user=away).update(is_away=True)
        first = waiting(campaign, marketer)  # `away` is skipped, so `full` gets it and is at capacity
        second = waiting(campaign, marketer)
        third = waiting(campaign, marketer)  # `free` is at capacity too now: the queue

        assert (first.owner, second.owner, third.owner) == (full, free, None)

    def test_with_nobody_available_the_lead_waits_in_the_queue(self, marketer, campaign):
        (only,) = reps(1)
        team_of(only)
        RepProfile.objects.filter(user=only).update(is_away=True)
        lead = waiting(campaign, marketer)
        assert (lead.status, lead.owner) == (S.HANDED_OFF, None)

    def test_teams_without_automatic_assignment_use_the_queue(self, marketer, campaign):
        (rep,) = reps(1)
        team_of(rep, auto_assign=False)
        assert waiting(campaign, marketer).status == S.HANDED_OFF

    def test_inactive_or_non_sales_users_are_never_assigned(self, marketer, campaign):
        (gone,) = reps(1)
        team_of(gone)
        gone.is_active = False
        gone.save()
        assert waiting(campaign, marketer).owner is None


@pytest.mark.django_db(transaction=True)
def test_simultaneous_hand_offs_never_take_a_rep_over_capacity(marketer, campaign):
    """One rep with room for one lead, two leads handed off at once: one is assigned, one waits."""
    (rep,) = reps(1)
    team_of(rep, capacity=1)
    leads = [mql(campaign, marketer) for _ in range(2)]
    start = threading.Barrier(2)
    errors = []

    def hand_off(lead):
        try:
            start.wait()
            services.lead_hand_off(lead=lead, actor=marketer)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_off, args=(lead,)) for lead in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Lead.objects.filter(owner=rep).count() == 1
    assert Lead.objects.filter(status=S.HANDED_OFF, owner__isnull=True).count() == 1


@pytest.mark.django_db
class TestManagersAssign:
    def test_a_manager_assigns_a_waiting_lead_and_the_timeline_says_who(self, marketer, rep, manager, campaign):
        lead = waiting(campaign, marketer)
        services.lead_assign(lead=lead, rep=rep, actor=manager)
        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CLAIMED, rep)
        event = lead.events.get(kind=LeadEvent.Kind.ASSIGNED)
        assert event.actor == manager and rep.get_full_name() in event.note

    def test_reassigning_moves_the_lead_and_its_running_clock(self, marketer, rep, other_rep, manager, campaign):
        lead = waiting(campaign, marketer)
        services.lead_claim(lead=lead, rep=rep)
        services.lead_assign(lead=lead, rep=other_rep, actor=manager)
        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CLAIMED, other_rep)
        assert Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).owner == other_rep
        event = lead.events.filter(kind=LeadEvent.Kind.ASSIGNED).get()
        assert (event.actor, event.data["from"], event.data["rep"]) == (manager, rep.pk, other_rep.pk)

    def test_only_managers_assign(self, client, marketer, rep, other_rep, campaign):
        lead = waiting(campaign, marketer)
        with pytest.raises(TransitionError):
            services.lead_assign(lead=lead, rep=other_rep, actor=rep)
        client.force_login(rep)
        assert client.get(reverse("leads:assign", args=[lead.pk])).status_code == 403
        assert client.post(reverse("leads:assign", args=[lead.pk]), {"rep": other_rep.pk}).status_code == 403

    def test_assigning_to_a_non_rep_or_a_closed_lead_is_refused(self, marketer, rep, manager, campaign):
        with pytest.raises(TransitionError, match="active sales reps"):
            services.lead_assign(lead=waiting(campaign, marketer), rep=marketer, actor=manager)
        with pytest.raises(TransitionError, match="only leads in the queue"):
            services.lead_assign(lead=mql(campaign, marketer), rep=rep, actor=manager)

    def test_assign_page(self, client, marketer, rep, manager, campaign):
        lead = waiting(campaign, marketer)
        client.force_login(manager)
        assert client.get(reverse("leads:assign", args=[lead.pk])).status_code == 200
        assert "rep" in client.post(reverse("leads:assign", args=[lead.pk]), {"rep": "999999"}).context["form"].errors
        assert client.post(reverse("leads:assign", args=[lead.pk]), {"rep": rep.pk}).status_code == 302
        lead.refresh_from_db()
        assert lead.owner == rep


@pytest.mark.django_db
@pytest.mark.django_db
def test_an_assignment_and_a_reassignment_tell_the_new_owner_and_the_rep_who_lost_the_lead(
    marketer, rep, other_rep, manager, campaign, mailoutbox, django_capture_on_commit_callbacks
):
    """Given a lead in the queue, when a manager assigns it to a rep, the rep is told (in the app and,
    preferring single emails, by email); when the manager then reassigns it, the new rep is told it is
    theirs and the first rep that it no longer is. Nothing is told before the assignment commits."""
    UserPreferences.objects.create(user=other_rep, email_mode=UserPreferences.EmailMode.DAILY)
    lead = waiting(campaign, marketer)

    with django_capture_on_commit_callbacks() as assigned:
        services.lead_assign(lead=lead, rep=rep, actor=manager)
        services.lead_assign(lead=lead, rep=other_rep, actor=manager)
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks() as emails:
        for callback in assigned:
            callback()
    assert len(emails) == 2  # the two emails, through the outbox
    deliver(emails)

    told = Notification.objects.filter(kind=Notification.Kind.ASSIGNED).order_by("pk")
    assert [(n.user, n.title, n.delivery) for n in told] == [
        (rep, f"Assigned to you: {lead.full_name}", Notification.Delivery.EMAIL),
        (other_rep, f"Assigned to you: {lead.full_name}", Notification.Delivery.DIGEST),
        (rep, f"Reassigned: {lead.full_name}", Notification.Delivery.EMAIL),
    ]
    assert f"to {other_rep.get_full_name()}" in told[2].body
    assert [mail.to for mail in mailoutbox] == [[rep.email], [rep.email]]


class TestTeamPages:
    def test_managers_switch_automatic_assignment_and_set_capacity(self, client, manager, rep):
        client.force_login(manager)
        client.post(reverse("leads:teams"), {"name": "Inside sales", "manager": manager.pk, "auto_assign": "on"})
        team = SalesTeam.objects.get(name="Inside sales")
        assert team.auto_assign
        assert client.get(reverse("leads:teams")).status_code == 200
        response = client.post(reverse("leads:rep_edit", args=[rep.pk]), {"team": team.pk, "capacity": "0"})
        assert "capacity" in response.context["form"].errors
        client.post(reverse("leads:rep_edit", args=[rep.pk]), {"team": team.pk, "capacity": "12"})
        assert (rep.rep_profile.team, RepProfile.objects.get(user=rep).capacity) == (team, 12)

    def test_a_rep_switches_out_of_office(self, client, rep):
        client.force_login(rep)
        client.post(reverse("leads:away_toggle"))
        assert RepProfile.objects.get(user=rep).is_away
        client.post(reverse("leads:away_toggle"))
        assert not RepProfile.objects.get(user=rep).is_away

    def test_managers_keep_the_return_reasons(self, client, manager, rep, marketer, campaign):
        client.force_login(manager)
        client.post(reverse("leads:return_reasons"), {"label": "Existing customer"})
        lead = waiting(campaign, marketer)
        services.lead_claim(lead=lead, rep=rep)
        client.force_login(rep)
        client.post(reverse("leads:return", args=[lead.pk]), {"reason": "Existing customer", "note": ""})
        lead.refresh_from_db()
        assert lead.status == S.RETURNED
        assert lead.handoffs.get().return_reason == "Existing customer"

    @pytest.mark.parametrize("role", ["rep", "marketer"])
    def test_only_managers_steer_teams(self, client, request, role):
        client.force_login(request.getfixturevalue(role))
        assert client.get(reverse("leads:teams")).status_code == 403
        assert client.get(reverse("leads:return_reasons")).status_code == 403


def test_the_assign_menu_names_each_rep_with_their_load_and_away(client, manager, marketer, campaign):
    """Full names, open leads against capacity, and who is away: what a manager needs to choose."""
    UserFactory(username="ada", first_name="Ada", last_name="Byron", role=Role.SALES)
    alan = UserFactory(username="alan", first_name="Alan", last_name="Turing", role=Role.SALES)
    RepProfile.objects.create(user=alan, capacity=1, is_away=True)
    advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=alan)
    waiting = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)
    client.force_login(manager)

    response = client.get(reverse("leads:assign", args=[waiting.pk]))

    options = [option.strip() for option in re.findall(r"<option value=\"\d+\">([^<]*)</option>", response.text)]
    assert options == ["Ada Byron · 0 of 25 open leads", "Alan Turing · 1 of 1 open leads · full · away"]
    assert "ada" not in options


def test_the_team_form_names_managers_by_full_name(client, manager):
    team = SalesTeam.objects.create(name="North", manager=manager)
    client.force_login(manager)
    response = client.get(reverse("leads:team_edit", args=[team.pk]))
    assert f'<option value="{manager.pk}" selected>{manager.get_full_name()}</option>' in response.text
