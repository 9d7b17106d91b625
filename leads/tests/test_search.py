"""The top bar's search: what each role finds, typos forgiven, and no input that breaks the page."""

import pytest
from django.urls import reverse

from conftest import LeadFactory, advance
from leads.models import Lead
from leads.search import lead_search

S = Lead.Status


@pytest.fixture
def leads_everywhere(marketer, rep, other_rep, campaign):
    """One lead of each kind, all at companies with "Orbital" in the name."""

    def lead(name, company, status, *, by=rep, **fields):
        made = LeadFactory(campaign=campaign, full_name=name, company=company, **fields)
        return advance(made, status, marketer=marketer, rep=by)

    return {
        "new": lead("Nina New", "Orbital New GmbH", S.NEW),
        "mql": lead("Max Mql", "Orbital Mql AG", S.MQL),
        "queue": lead("Quinn Queue", "Orbital Queue Ltd", S.HANDED_OFF, phone="+49 (30) 1234-5678"),
        "mine": lead("Mia Mine", "Orbital Mine Inc", S.CONTACTED),
        "theirs": lead("Theo Theirs", "Orbital Theirs SA", S.CLAIMED, by=other_rep),
        "returned": lead("Rita Returned", "Orbital Returned BV", S.RETURNED),
        "disqualified": lead("Dora Disqualified", "Orbital Out Oy", S.DISQUALIFIED),
        "merged": lead("Meg Merged", "Orbital Merged KG", S.MERGED),
    }


def found(user, query):
    return {lead.full_name for lead in lead_search(user=user, query=query).leads}


def test_a_rep_finds_the_queue_their_own_and_colleagues_leads_only(rep, leads_everywhere):
    assert found(rep, "orbital") == {"Quinn Queue", "Mia Mine", "Theo Theirs"}


@pytest.mark.parametrize("role", ["marketer", "manager"])
def test_marketers_and_managers_find_every_live_lead(request, role, leads_everywhere):
    everyone_but_the_merged = {lead.full_name for key, lead in leads_everywhere.items() if key != "merged"}
    assert found(request.getfixturevalue(role), "orbital") == everyone_but_the_merged


@pytest.mark.parametrize(
    "query,name",
    [
        ("Orbitl Mine", "Mia Mine"),  # a letter left out
        ("Orbtial Queue", "Quinn Queue"),  # two swapped
        ("quin queue", "Quinn Queue"),  # the name, lower case, a letter short
        ("mia mine", "Mia Mine"),
        ("030 1234 5678", "Quinn Queue"),  # the phone's digits, however written, the trunk 0 dropped
        ("12345678", "Quinn Queue"),
    ],
)
def test_typos_and_other_spellings_still_find_the_lead(rep, leads_everywhere, query, name):
    assert lead_search(user=rep, query=query).leads[0].full_name == name


def test_the_email_is_found_by_part_of_it(rep, leads_everywhere):
    email = leads_everywhere["theirs"].email
    assert found(rep, email.split("@")[0].upper()) == {"Theo Theirs"}


def test_a_rep_never_finds_a_lead_outside_their_scope_by_its_exact_email(rep, leads_everywhere):
    for key in ("new", "mql", "returned", "disqualified", "merged"):
        hidden = leads_everywhere[key]
        assert hidden.full_name not in found(rep, hidden.email), key


def test_lookalikes_only_when_nothing_contains_the_words(manager, campaign):
    LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical")
    LeadFactory(campaign=campaign, full_name="Ada Lovelance", company="Engines")
    exact = lead_search(user=manager, query="lovelace")
    assert [lead.full_name for lead in exact.leads] == ["Ada Lovelace"] and not exact.lookalikes
    typo = lead_search(user=manager, query="lovelase")
    assert {lead.full_name for lead in typo.leads} == {"Ada Lovelace", "Ada Lovelance"} and typo.lookalikes


def test_the_page_names_the_owner_and_says_read_only_to_a_rep(client, rep, other_rep, leads_everywhere):
    client.force_login(rep)
    html = client.get(reverse("leads:search"), {"q": "orbital"}).content.decode()
    assert "3 leads found" in html
    assert f'{other_rep.get_full_name()} <span class="text-muted small">(read-only)</span>' in html
    assert "Yours" in html and "In the queue" in html
    assert "Nina New" not in html


def test_results_are_escaped(client, manager, campaign):
    LeadFactory(campaign=campaign, full_name="<script>alert(1)</script>", company="Evil Corp")
    client.force_login(manager)
    html = client.get(reverse("leads:search"), {"q": "evil corp"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


@pytest.mark.parametrize(
    "query,says",
    [
        ("", ""),
        ("ab", "Type at least 3 characters"),
        ("x" * 101, "too long to search for"),
        ("a" * 100, "No lead matches"),
        ("'; DROP TABLE leads_lead; --", "No lead matches"),
        ("%_\\%", "No lead matches"),
        ("Zürich 東京 🚀", "No lead matches"),
        ("nul\x00byte", "cannot be searched for"),
        ("    ", ""),
    ],
)
def test_no_input_breaks_the_page(client, rep, leads_everywhere, query, says):
    client.force_login(rep)
    response = client.get(reverse("leads:search"), {"q": query})
    assert response.status_code == 200
    assert says in response.content.decode()


def test_wildcards_are_taken_literally(manager, campaign):
    LeadFactory(campaign=campaign, full_name="Percy Percent", company="100% Growth")
    LeadFactory(campaign=campaign, full_name="Paula Plain", company="1000 Growth")
    assert found(manager, "100%") == {"Percy Percent"}


def test_the_query_count_does_not_grow_with_the_results(
    client, django_assert_num_queries, django_assert_max_num_queries, manager, campaign
):
    client.force_login(manager)
    LeadFactory(campaign=campaign, company="Orbital One")
    client.get(reverse("leads:search"), {"q": "orbital"})  # warm up the session and roles
    with django_assert_max_num_queries(12) as one:
        client.get(reverse("leads:search"), {"q": "orbital"})
    LeadFactory.create_batch(30, campaign=campaign, company="Orbital Many")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("leads:search"), {"q": "orbital"})
    assert "more match" in response.content.decode()


def test_the_top_bar_has_the_box_for_every_role(client, marketer, rep, manager):
    for user in (marketer, rep, manager):
        client.force_login(user)
        html = client.get(reverse("api:tokens")).content.decode()
        assert 'id="site-search"' in html, user
        assert "js/search.js" in html


def test_a_search_that_runs_too_long_says_so_instead_of_waiting(client, monkeypatch, manager, campaign):
    """A typo in words thousands of leads share would make PostgreSQL check each: the statement
    timeout stops it and the page asks for the words as written (here the timeout is made tiny)."""
    Lead.objects.bulk_create(
        Lead(campaign=campaign, full_name=f"Scale Lead {n}", email=f"scale-{n}@example.com", company="Scale Co")
        for n in range(20000)
    )
    monkeypatch.setattr("leads.search.SEARCH_TIMEOUT_MS", 1)
    client.force_login(manager)
    response = client.get(reverse("leads:search"), {"q": "Scael Lead 1234"})
    assert response.status_code == 200
    assert "Too many leads look like" in response.content.decode()
    monkeypatch.setattr("leads.search.SEARCH_TIMEOUT_MS", 5000)
    assert lead_search(user=manager, query="Scael Lead 1234").leads[0].full_name == "Scale Lead 1234"


def test_names_that_start_with_the_words_come_alone_else_those_containing_them(manager, campaign):
    """Starting with the words is a b-tree range however common they are; containing them is looked
    for only when nothing starts with them."""
    LeadFactory(campaign=campaign, full_name="Olga Orbit", company="Orbital Systems")
    LeadFactory(campaign=campaign, full_name="Anna Acme", company="Acme Orbital")
    assert found(manager, "orbital") == {"Olga Orbit"}
    assert found(manager, "rbital") == {"Olga Orbit", "Anna Acme"}
    assert found(manager, "acme orb") == {"Anna Acme"}
