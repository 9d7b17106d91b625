"""The SLA as an agreement both departments sign: a change is a draft any manager writes; both heads
sign the revision they saw (an edit clears their signatures); the start job puts a draft signed by both
in force at its start time, once, however many workers run it; everything is on the draft's record."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import UserFactory
from people.roles import Role
from sla import agreement
from sla.models import Department, DepartmentHead, PolicyDraft, PolicyDraftEvent, SlaPolicy
from sla.tasks import start_signed_policies
from sla.tests.test_policy_pages import form_data, signed_in

E = PolicyDraftEvent.Kind
MINUTE = datetime.timedelta(minutes=1)


def values(**overrides) -> dict:
    """A whole policy's values, as the draft form gives them: the policy in force with changes."""
    policy = SlaPolicy.current()
    base = {
        name: getattr(policy, name)
        for name in (
            "name",
            "claim_hours_hot",
            "claim_hours_warm",
            "claim_hours_cold",
            "first_contact_hours_hot",
            "first_contact_hours_warm",
            "first_contact_hours_cold",
            "follow_up_days",
            "acceptance_target_percent",
            "warning_percent",
            "escalation_steps",
        )
    }
    return {**base, "note": "Hot leads go cold within the hour.", **overrides}


@pytest.fixture
def head_of_sales(db):
    head = UserFactory(role=Role.MANAGERS, username="head_of_sales")
    DepartmentHead.objects.create(department=Department.SALES, user=head)
    return head


@pytest.fixture
def head_of_marketing(db):
    head = UserFactory(role=Role.MANAGERS, username="head_of_marketing")
    DepartmentHead.objects.create(department=Department.MARKETING, user=head)
    return head


def sign(draft, head, department):
    return agreement.draft_sign(draft=draft, signer=head, department=department, content_hash=draft.content_hash)


def tighter_draft(manager, starts_at):
    return agreement.draft_create(
        actor=manager, values=values(name="Tighter hot leads", claim_hours_hot=Decimal("0.5")), starts_at=starts_at
    )


@pytest.mark.django_db
def test_a_draft_signed_by_both_heads_starts_at_its_start_not_before(manager, head_of_sales, head_of_marketing):
    """Given a draft starting Monday 00:00 signed by both heads, the start job does nothing the minute
    before, and at the start makes it the next version with the draft's values, drafted by its author;
    the record says who drafted, who signed, and when it started."""
    monday = timezone.now() + datetime.timedelta(days=3)
    before = SlaPolicy.current()
    draft = tighter_draft(manager, monday)
    sign(draft, head_of_sales, Department.SALES)
    sign(draft, head_of_marketing, Department.MARKETING)

    assert agreement.drafts_start_due(now=monday - MINUTE) == []
    assert SlaPolicy.current() == before

    [started] = agreement.drafts_start_due(now=monday)

    draft.refresh_from_db()
    assert (started.version, started.claim_hours_hot, started.name) == (
        before.version + 1,
        Decimal("0.5"),
        "Tighter hot leads",
    )
    assert (started.created_by, started.note) == (manager, "Hot leads go cold within the hour.")
    assert SlaPolicy.current() == started
    assert (draft.status, draft.policy, draft.started_at) == (PolicyDraft.Status.STARTED, started, started.created_at)
    record = list(draft.events.values_list("kind", "actor", "revision"))
    assert record == [
        (E.DRAFTED, manager.pk, 1),
        (E.SIGNED, head_of_sales.pk, 1),
        (E.SIGNED, head_of_marketing.pk, 1),
        (E.STARTED, None, 1),
    ]
    assert [s.signer for s in agreement.policy_signatories(started)] == [head_of_sales, head_of_marketing]
    assert agreement.drafts_start_due(now=monday + MINUTE) == [], "a started draft never starts again"


@pytest.mark.django_db
def test_editing_a_signed_draft_clears_the_signatures(manager, head_of_sales, head_of_marketing):
    """The head of sales signs; then a manager edits the draft: the signature was for what the head
    saw, so after marketing signs the new revision the draft is still not signed by both and does not
    start; once sales signs again it does."""
    start = timezone.now() - MINUTE
    draft = tighter_draft(manager, start)
    sign(draft, head_of_sales, Department.SALES)

    draft = agreement.draft_edit(
        draft=draft,
        actor=manager,
        values=values(name="Tighter still", claim_hours_hot=Decimal("0.25")),
        starts_at=start,
    )
    sign(draft, head_of_marketing, Department.MARKETING)

    assert draft.revision == 2
    assert set(agreement.current_signatures(draft)) == {Department.MARKETING}
    assert agreement.drafts_start_due() == []
    edited = draft.events.get(kind=E.EDITED)
    assert (edited.actor, edited.revision, edited.note) == (manager, 2, "Signatures cleared: both heads sign again.")
    assert draft.signatures.filter(revision=1, department=Department.SALES).exists(), (
        "the old signature stays on record"
    )

    sign(draft, head_of_sales, Department.SALES)
    [started] = agreement.drafts_start_due()
    assert (started.name, started.claim_hours_hot) == ("Tighter still", Decimal("0.25"))


@pytest.mark.django_db
def test_an_unchanged_save_keeps_the_revision_and_its_signatures(manager, head_of_sales):
    draft = tighter_draft(manager, timezone.now() + MINUTE)
    sign(draft, head_of_sales, Department.SALES)
    same = agreement.draft_edit(
        draft=draft,
        actor=manager,
        values=values(name="Tighter hot leads", claim_hours_hot=Decimal("0.5")),
        starts_at=draft.starts_at,
    )
    assert same.revision == 1 and set(agreement.current_signatures(same)) == {Department.SALES}


@pytest.mark.django_db
def test_moving_the_start_is_an_edit_too(manager, head_of_sales):
    draft = tighter_draft(manager, timezone.now() + MINUTE)
    sign(draft, head_of_sales, Department.SALES)
    moved = agreement.draft_edit(draft=draft, actor=manager, values=draft.values, starts_at=draft.starts_at + MINUTE)
    assert moved.revision == 2 and agreement.current_signatures(moved) == {}


@pytest.mark.django_db
def test_a_head_signs_only_the_revision_they_saw(manager, head_of_sales):
    """A head who opened revision 1 and signs after someone saved revision 2 is refused: the hash they
    send is revision 1's."""
    draft = tighter_draft(manager, timezone.now() + MINUTE)
    seen = draft.content_hash
    agreement.draft_edit(draft=draft, actor=manager, values=values(name="Other"), starts_at=draft.starts_at)
    with pytest.raises(ValidationError, match="changed after you opened it"):
        agreement.draft_sign(draft=draft, signer=head_of_sales, department=Department.SALES, content_hash=seen)
    assert not draft.signatures.exists()


@pytest.mark.django_db
def test_a_draft_not_signed_by_both_never_starts(manager, head_of_sales, head_of_marketing):
    """Signed by sales only, a draft whose start was a week ago stays a draft; the policy is unchanged."""
    before = SlaPolicy.current()
    draft = tighter_draft(manager, timezone.now() - datetime.timedelta(days=7))
    sign(draft, head_of_sales, Department.SALES)
    unsigned = tighter_draft(manager, timezone.now() - datetime.timedelta(days=7))

    assert start_signed_policies() == 0
    assert SlaPolicy.current() == before
    assert {d.status for d in (draft, unsigned)} == {PolicyDraft.Status.DRAFT}
    assert PolicyDraft.objects.filter(status=PolicyDraft.Status.DRAFT).count() == 2


@pytest.mark.django_db
def test_unsigned_drafts_past_their_start_do_not_hold_up_a_signed_one(manager, head_of_sales, head_of_marketing):
    """More unsigned drafts overdue than one run takes, then a signed one: the signed one starts."""
    long_ago = timezone.now() - datetime.timedelta(days=30)
    for _ in range(agreement.START_BATCH + 5):
        tighter_draft(manager, long_ago)
    signed = tighter_draft(manager, timezone.now() - MINUTE)
    sign(signed, head_of_sales, Department.SALES)
    sign(signed, head_of_marketing, Department.MARKETING)

    [started] = agreement.drafts_start_due()

    signed.refresh_from_db()
    assert signed.policy == started


@pytest.mark.django_db
def test_only_the_heads_sign_and_each_only_for_their_department(manager, head_of_sales, head_of_marketing):
    draft = tighter_draft(manager, timezone.now() + MINUTE)
    with pytest.raises(PermissionDenied):
        sign(draft, manager, Department.SALES)
    with pytest.raises(PermissionDenied):
        sign(draft, head_of_sales, Department.MARKETING)
    with pytest.raises(ValidationError):
        sign(draft, head_of_sales, "finance")
    assert not draft.signatures.exists()


@pytest.mark.django_db
def test_one_person_may_head_both_departments_and_signs_for_each(manager):
    """A small firm: one manager heads both sides, signs twice, and the draft starts."""
    both = UserFactory(role=Role.MANAGERS)
    for department in Department:
        DepartmentHead.objects.create(department=department, user=both)
    draft = tighter_draft(manager, timezone.now())
    sign(draft, both, Department.SALES)
    sign(draft, both, Department.MARKETING)
    assert len(agreement.drafts_start_due()) == 1


@pytest.mark.django_db
def test_a_head_must_be_a_manager(rep):
    with pytest.raises(ValidationError):
        DepartmentHead(department=Department.SALES, user=rep).full_clean()


@pytest.mark.django_db
def test_non_managers_cannot_draft(rep, marketer):
    for person in (rep, marketer):
        with pytest.raises(PermissionDenied):
            tighter_draft(person, timezone.now())
    assert not PolicyDraft.objects.exists()


@pytest.mark.django_db
def test_a_draft_with_values_the_policy_refuses_is_not_saved(manager):
    with pytest.raises(ValidationError) as refused:
        agreement.draft_create(actor=manager, values=values(warning_percent=100), starts_at=timezone.now())
    assert "warning_percent" in refused.value.message_dict
    assert not PolicyDraft.objects.exists()


@pytest.mark.django_db
def test_the_record_is_append_only_in_the_database(manager):
    draft = tighter_draft(manager, timezone.now())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PolicyDraftEvent.objects.filter(draft=draft).update(note="rewritten")
    with pytest.raises(ValueError):
        draft.events.first().save()


@pytest.mark.django_db(transaction=True)
def test_two_start_jobs_racing_start_a_draft_exactly_once():
    """Two beat runs at the same moment (two workers): one version more, one STARTED record."""
    manager = UserFactory(role=Role.MANAGERS)
    head = UserFactory(role=Role.MANAGERS)
    for department in Department:
        DepartmentHead.objects.create(department=department, user=head)
    drafts = [tighter_draft(manager, timezone.now() - MINUTE) for _ in range(3)]
    for draft in drafts:
        for department in Department:
            sign(draft, head, department)
    before = SlaPolicy.current().version
    barrier = threading.Barrier(2)
    started, failures = [], []

    def run():
        try:
            barrier.wait()
            started.extend(policy.version for policy in agreement.drafts_start_due())
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(started) == [before + 1, before + 2, before + 3]
    assert SlaPolicy.objects.filter(version__gt=before).count() == 3
    assert PolicyDraftEvent.objects.filter(kind=E.STARTED).count() == 3
    assert set(PolicyDraft.objects.values_list("status", flat=True)) == {PolicyDraft.Status.STARTED}


# --- The pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pages_write_a_draft_and_the_heads_sign_it(client, manager, head_of_sales, head_of_marketing):
    """A manager writes a draft on the page; each head sees only their own button, signs on the draft's
    page, and the start job puts it in force."""
    response = signed_in(client, manager).post(reverse("sla_policy_new"), form_data(), follow=True)
    draft = PolicyDraft.objects.get()
    assert response.redirect_chain == [(draft.get_absolute_url(), 302)]
    assert "needs the signatures of both heads" in response.content.decode()
    assert response.context["may_sign"] == []
    assert draft.values["claim_hours_hot"] == "0.5" and draft.values["escalation_steps"] == [
        "return_to_queue",
        "notify_manager",
    ]

    for head, department in ((head_of_sales, "sales"), (head_of_marketing, "marketing")):
        page = signed_in(client, head).get(draft.get_absolute_url())
        assert page.context["may_sign"] == [department]
        assert f"Sign for {department}" in page.content.decode()
        client.post(
            reverse("sla_draft_sign", args=[draft.pk]), {"department": department, "content_hash": draft.content_hash}
        )

    [started] = agreement.drafts_start_due()
    assert started.claim_hours_hot == Decimal("0.5")
    page = signed_in(client, manager).get(draft.get_absolute_url()).content.decode()
    assert f"as version {started.version}" in page


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["sla_draft", "sla_draft_edit"])
def test_only_managers_reach_a_draft(client, manager, rep, marketer, name):
    draft = tighter_draft(manager, timezone.now() + MINUTE)
    url = reverse(name, args=[draft.pk])
    assert client.get(url).status_code == 302
    assert signed_in(client, rep).get(url).status_code == 403
    assert signed_in(client, marketer).get(url).status_code == 403
    assert signed_in(client, manager).get(url).status_code == 200


@pytest.mark.django_db
def test_a_rep_cannot_sign_or_draft_by_posting(client, rep, manager):
    draft = tighter_draft(manager, timezone.now() + MINUTE)
    signed_in(client, rep)
    sign_url = reverse("sla_draft_sign", args=[draft.pk])
    assert client.post(sign_url, {"department": "sales", "content_hash": draft.content_hash}).status_code == 403
    assert client.post(reverse("sla_policy_new"), form_data()).status_code == 403
    assert PolicyDraft.objects.count() == 1 and not draft.signatures.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "post",
    [
        {"department": "finance", "content_hash": "x"},
        {"department": "", "content_hash": ""},
        {},
        {"department": "sales", "content_hash": "stale"},
        {"department": "marketing", "content_hash": "x" * 10_000},
    ],
)
def test_a_bad_signature_post_is_refused_with_a_message_not_a_500(client, manager, head_of_sales, post):
    draft = tighter_draft(manager, timezone.now() + MINUTE)
    response = signed_in(client, head_of_sales).post(reverse("sla_draft_sign", args=[draft.pk]), post, follow=True)
    assert response.status_code == 200
    assert not draft.signatures.exists()
    assert any(message.level_tag == "warning" for message in response.context["messages"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        ("soon", "Enter a valid date/time"),
        ("2001-01-01T00:00", "That moment has passed"),
        ("9999-99-99T99:99", "valid"),
    ],
)
def test_a_bad_start_comes_back_as_a_field_error(client, manager, starts_at, message):
    response = signed_in(client, manager).post(reverse("sla_policy_new"), form_data(starts_at=starts_at))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["starts_at"])
    assert not PolicyDraft.objects.exists()


@pytest.mark.django_db
def test_unknown_or_started_drafts_answer_404(client, manager, head_of_sales, head_of_marketing):
    draft = tighter_draft(manager, timezone.now())
    sign(draft, head_of_sales, Department.SALES)
    sign(draft, head_of_marketing, Department.MARKETING)
    agreement.drafts_start_due()
    signed_in(client, manager)
    assert client.get(reverse("sla_draft_edit", args=[draft.pk])).status_code == 404
    assert client.get(reverse("sla_draft", args=[draft.pk + 100])).status_code == 404
    assert client.post(reverse("sla_draft_sign", args=[draft.pk + 100])).status_code == 404


@pytest.mark.django_db
def test_editing_on_the_page_makes_a_new_revision(client, manager, head_of_sales):
    draft = tighter_draft(manager, timezone.now() + datetime.timedelta(days=1))
    sign(draft, head_of_sales, Department.SALES)
    form = signed_in(client, manager).get(reverse("sla_draft_edit", args=[draft.pk])).context["form"]
    assert form.initial["claim_hours_hot"] == "0.5"
    client.post(reverse("sla_draft_edit", args=[draft.pk]), form_data(starts_at=""))
    draft.refresh_from_db()
    assert draft.revision == 2 and agreement.current_signatures(draft) == {}


@pytest.mark.django_db
def test_the_policy_page_lists_drafts_in_constant_queries(client, manager):
    signed_in(client, manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("sla_policy")).status_code == 200
        return len(captured)

    tighter_draft(manager, timezone.now() + MINUTE)
    before = queries()
    for _ in range(4):
        tighter_draft(UserFactory(role=Role.MANAGERS), timezone.now() + MINUTE)
    assert len(client.get(reverse("sla_policy")).context["drafts"]) == 5
    assert queries() == before
