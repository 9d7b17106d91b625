"""A lead's journey through the API over real HTTP (httpx against a live server), with the API tokens
of a marketer, a rep and a manager: capture → qualify → hand off → claim → first contact → convert;
and a second lead assigned by the manager and returned by the rep."""

import httpx
import pytest

from api.tokens import token_issue
from conftest import CampaignFactory, UserFactory
from leads.models import Lead, LeadEvent, ReturnReason
from people.roles import Role

S = Lead.Status


def client_for(live_server, user) -> httpx.Client:
    _, key = token_issue(user=user, name="journey")
    return httpx.Client(base_url=f"{live_server.url}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_lead_walks_its_moves_over_http(live_server):
    marketer = UserFactory(username="journey-marketer", role=Role.MARKETING)
    rep = UserFactory(username="journey-rep", role=Role.SALES)
    manager = UserFactory(username="journey-manager", role=Role.MANAGERS)
    campaign = CampaignFactory(owner=marketer)
    ReturnReason.objects.get_or_create(label="Not ready to buy")  # a transactional test starts without seeded rows
    mkt, sales, boss = (client_for(live_server, user) for user in (marketer, rep, manager))

    def move(client, lead_id, **body):
        response = client.post(f"/leads/{lead_id}/moves/", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    with mkt, sales, boss:
        captured = mkt.post(
            "/leads/", json={"campaign": campaign.pk, "full_name": "Ada Lovelace", "email": "ada@example.com"}
        )
        assert captured.status_code == 201, captured.text
        lead_id = captured.json()["lead"]["id"]
        assert move(mkt, lead_id, move="qualify")["status"] == S.MQL
        assert move(mkt, lead_id, move="hand_off", note="Asked for a demo")["status"] == S.HANDED_OFF
        queue = sales.get("/leads/", params={"status": S.HANDED_OFF}).json()["results"]
        assert [row["id"] for row in queue] == [lead_id]
        assert sales.get(f"/leads/{lead_id}/").json()["moves"] == ["claim"]
        assert move(sales, lead_id, move="claim")["owner"]["id"] == rep.pk
        assert move(sales, lead_id, move="first_contact", note="Called, keen")["status"] == S.CONTACTED
        converted = move(sales, lead_id, move="convert", value="4200.00")
        assert converted["status"] == S.CONVERTED and converted["deal"]["value"] == "4200.00"
        assert sales.post(f"/leads/{lead_id}/moves/", json={"move": "claim"}).status_code == 409

        second = mkt.post(
            "/leads/", json={"campaign": campaign.pk, "full_name": "Charles B", "email": "cb@example.com"}
        )
        second_id = second.json()["lead"]["id"]
        move(mkt, second_id, move="qualify")
        move(mkt, second_id, move="hand_off")
        assigned = boss.post(f"/leads/{second_id}/assignment/", json={"rep": rep.pk})
        assert assigned.status_code == 200 and assigned.json()["owner"]["id"] == rep.pk
        returned = move(sales, second_id, move="return", reason="Not ready to buy", note="Call again in spring")
        assert returned["status"] == S.RETURNED
        assert {d["kind"]: d["state"] for d in returned["deadlines"]}["follow_up"] == "running"
        assert move(mkt, second_id, move="renurture")["status"] == S.NEW

    kinds = list(LeadEvent.objects.filter(lead_id=lead_id).order_by("created_at", "id").values_list("kind", flat=True))
    assert kinds[-5:] == ["qualified", "handed_off", "claimed", "contacted", "converted"]
    actors = dict(LeadEvent.objects.filter(lead_id=lead_id).values_list("kind", "actor__username"))
    assert actors["handed_off"] == "journey-marketer" and actors["converted"] == "journey-rep"
    assert LeadEvent.objects.get(lead_id=second_id, kind=LeadEvent.Kind.ASSIGNED).actor == manager
