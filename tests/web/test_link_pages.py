"""The page behind a single-purpose link, for a recipient without an account, through HTTP.

The demo coordinator creates links (``core.proposals.links.create_link``) for the proposals of a
freshly routed discharge; a browser without any session opens them and answers.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from core.access.policy import Actor
from core.consent.model import Recipient
from core.consent.service import ConsentInput, record_consent
from core.identity.roles import Role
from core.proposals.links import create_link, revoke_link
from core.proposals.queries import MASKED
from tests.conftest import wait_for
from tests.factories import discharge, nir
from tests.web.test_login import form_fields, login

SLUG = "landes"
DOMAIN = "demo.parcours.test"
SAAD = "Aide et présence Landes (démo)"


def one(sql_owner, query: str, *params: Any) -> Any:
    row = sql_owner.execute(query, params).fetchone()
    assert row is not None, (query, params)
    return row[0]


@pytest.fixture
def coordinator(client, landes, sql_owner) -> Actor:
    """The demo coordinator, as the services see her once she has logged in."""
    client.cookies.clear()
    assert login(client, SLUG, "coordinatrice.landes").status_code == 303
    client.cookies.clear()
    row = sql_owner.execute(
        "SELECT user_account_id, id, organisation_id FROM membership "
        "WHERE tenant_id = %s AND invited_email = %s AND role = 'coordinator'",
        (landes.id, f"coordinatrice.landes@{DOMAIN}"),
    ).fetchone()
    assert row is not None and row[0] is not None
    return Actor(row[0], False, landes.id, Role.COORDINATOR, row[1], row[2], None)


@pytest.fixture
def saad(landes, sql_owner) -> uuid.UUID:
    return one(sql_owner, "SELECT id FROM organisation WHERE tenant_id = %s AND name = %s", landes.id, SAAD)


@pytest.fixture
def routed_discharge(client, landes, sql_owner, token_for) -> dict[str, Any]:
    """A discharge of a new person, routed: its proposals by action type, and the person."""
    ins = nir(f"2420240{random.randint(100, 989)}{random.randint(1, 999):03d}")
    family = f"Lien{uuid.uuid4().hex[:6]}"
    answer = client.post(
        f"/t/{SLUG}/api/v1/events",
        json=discharge(ins=ins, family_name=family, given_names="Odette"),
        headers={**token_for(landes), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201, answer.text
    event_id = answer.json()["id"]
    wait_for(lambda: one(sql_owner, "SELECT status FROM event WHERE id = %s", event_id) == "routed")
    rows = sql_owner.execute(
        "SELECT action_type, id FROM action_proposal WHERE event_id = %s", (event_id,)
    ).fetchall()
    assert len(rows) >= 2, rows
    return {
        "person": one(sql_owner, "SELECT person_id FROM event WHERE id = %s", event_id),
        "family_name": family,
        "proposals": {action_type: proposal_id for action_type, proposal_id in rows},
    }


def link_url(token: str, move: str = "") -> str:
    return f"/t/{SLUG}/lien/{token}" + (f"/{move}" if move else "")


def status_of(sql_owner, proposal_id: uuid.UUID) -> str:
    return one(sql_owner, "SELECT status FROM action_proposal WHERE id = %s", proposal_id)


def assert_private(response) -> None:
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in response.headers["x-robots-tag"]


def test_the_recipient_sees_the_action_and_accepts_it_once(
    browser, aio, runtime, landes, sql_owner, coordinator, saad, routed_discharge
):
    proposal_id = routed_discharge["proposals"]["home_help_assessment"]
    link = aio.run(create_link(runtime, coordinator, proposal_id, organisation_id=saad))

    page = browser.get(link_url(link.token))
    assert page.status_code == 200, page.text
    assert_private(page)
    assert "Évaluation des besoins d&#39;aide à domicile" in page.text  # the action's label
    assert SAAD in page.text  # the recipient
    assert "À traiter" in page.text  # its status
    assert MASKED in page.text and routed_discharge["family_name"] not in page.text  # no consent yet
    assert "Ce lien est valable jusqu'au" in page.text
    assert "Accepter" in page.text and "Refuser" in page.text
    assert "Annuler" not in page.text and f'action="{link_url(link.token, "cancel")}"' not in page.text
    assert 'hx-boost="false"' in page.text

    # The person consents to the provider knowing who she is: the page names her.
    aio.run(
        record_consent(
            runtime,
            coordinator,
            routed_discharge["person"],
            ConsentInput(
                recipient=Recipient.organisation(saad),
                actions=("read",),
                categories=("administrative",),
                purposes=("service_delivery",),
                proof_reference="formulaire signé n° 12",
            ),
        )
    )
    named = browser.get(link_url(link.token))
    assert f"Odette {routed_discharge['family_name']}" in named.text and MASKED not in named.text

    version = form_fields(named.text)["version"]
    accepted = browser.post(link_url(link.token, "accept"), data={"version": version}, follow_redirects=False)
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == link_url(link.token) + "?fait=accept"
    assert_private(accepted)
    after = browser.get(accepted.headers["location"])
    assert "vous avez accepté cette action" in after.text
    assert '<span class="tag" id="link-status">Acceptée</span>' in after.text
    assert "Marquer réalisée" in after.text  # the moves now allowed

    assert status_of(sql_owner, proposal_id) == "accepted"
    history = sql_owner.execute(
        "SELECT via, actor_label FROM proposal_history WHERE proposal_id = %s AND to_status = 'accepted'",
        (proposal_id,),
    ).fetchall()
    assert history == [("link", f"{SAAD} (par lien)")]
    audit = sql_owner.execute(
        "SELECT actor_kind, actor_id FROM audit_entry WHERE tenant_id = %s AND target_id = %s "
        "AND action = 'proposal.accept'",
        (landes.id, str(proposal_id)),
    ).fetchall()
    assert audit == [("link", str(link.id))]

    again = browser.post(link_url(link.token, "accept"), data={"version": version}, follow_redirects=False)
    assert again.status_code == 409
    assert_private(again)
    assert 'id="link-error"' in again.text and "déjà « acceptée »" in again.text
    assert status_of(sql_owner, proposal_id) == "accepted"


def test_a_refusal_needs_its_reason_and_a_stale_page_is_a_conflict(
    browser, aio, runtime, sql_owner, coordinator, routed_discharge
):
    proposals = routed_discharge["proposals"]
    proposal_id = next(iter(proposals.values()))
    link = aio.run(create_link(runtime, coordinator, proposal_id, recipient_label="Pharmacie des Arènes"))
    page = browser.get(link_url(link.token))
    assert MASKED in page.text  # a recipient named in words only: nobody consented to it
    version = int(form_fields(page.text)["version"])

    stale = browser.post(link_url(link.token, "acknowledge"), data={"version": str(version + 5)})
    assert stale.status_code == 409 and "modifiée entre-temps" in stale.text

    no_reason = browser.post(link_url(link.token, "reject"), data={"version": str(version)})
    assert no_reason.status_code == 422
    assert 'id="link-reject-reason-error"' in no_reason.text
    other = browser.post(
        link_url(link.token, "reject"), data={"version": str(version), "reason": "other", "note": ""}
    )
    assert other.status_code == 422 and 'id="link-reject-note-error"' in other.text
    assert status_of(sql_owner, proposal_id) == "requested"

    refused = browser.post(
        link_url(link.token, "reject"),
        data={"version": str(version), "reason": "no_capacity", "note": "Pas avant trois semaines."},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    assert status_of(sql_owner, proposal_id) == "rejected"
    assert "Votre refus a été transmis" in browser.get(refused.headers["location"]).text


def test_a_link_cannot_cancel(browser, aio, runtime, sql_owner, coordinator, routed_discharge):
    proposal_id = next(iter(routed_discharge["proposals"].values()))
    link = aio.run(create_link(runtime, coordinator, proposal_id, recipient_label="Infirmière libérale"))
    page = browser.get(link_url(link.token))
    assert "Annuler" not in page.text
    version = form_fields(page.text)["version"]
    cancel = browser.post(
        link_url(link.token, "cancel"), data={"version": version, "reason": "no_longer_needed"}
    )
    assert cancel.status_code == 403
    assert_private(cancel)
    assert "seule la coordination peut annuler" in cancel.text
    assert browser.post(link_url(link.token, "n-importe-quoi"), data={}).status_code == 403
    assert status_of(sql_owner, proposal_id) == "requested"


def test_expired_revoked_and_unknown_links(browser, aio, runtime, sql_owner, coordinator, routed_discharge):
    proposal_id = next(iter(routed_discharge["proposals"].values()))

    expired = aio.run(create_link(runtime, coordinator, proposal_id, recipient_label="SSIAD", days=1))
    sql_owner.execute(
        "UPDATE action_link SET expires_at = now() - interval '1 minute' WHERE id = %s", (expired.id,)
    )
    gone = browser.get(link_url(expired.token))
    assert gone.status_code == 410
    assert_private(gone)
    assert "Ce lien a expiré" in gone.text and "demandez-en un nouveau à la coordination" in gone.text
    late = browser.post(link_url(expired.token, "accept"), data={})
    assert late.status_code == 410
    assert status_of(sql_owner, proposal_id) == "requested"

    revoked = aio.run(create_link(runtime, coordinator, proposal_id, recipient_label="SAAD"))
    assert browser.get(link_url(revoked.token)).status_code == 200
    aio.run(revoke_link(runtime, coordinator, proposal_id, revoked.id))
    withdrawn = browser.get(link_url(revoked.token))
    assert withdrawn.status_code == 410
    assert "retiré par la coordination" in withdrawn.text

    unknown = browser.get(link_url("pas-un-vrai-jeton"))
    assert unknown.status_code == 404
    assert_private(unknown)
    assert "Lien inconnu" in unknown.text
    assert browser.post(link_url("pas-un-vrai-jeton", "accept"), data={}).status_code == 404
