"""Students without a wallet: a roster with no payee column is reserved, each student gets
a claim link, and the claim signed with the link's key pays the wallet the student names."""

from __future__ import annotations

import csv

import pytest
from shared import DAY, UNIT, wallet

from itgen_chain import jobs
from itgen_chain.attestations import Milestone
from itgen_chain.deployer import Terms, deploy
from itgen_chain.exceptions import ItgenError, RosterError
from itgen_chain.reservations import Link, sign_claim

PAGE = "https://claim.example.org/"


@pytest.fixture
def program(project, chain, accounts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    admin, donor, registrar = accounts[0], accounts[1], accounts[2]
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 270 * DAY
    record = deploy(admin, Terms(token.address, donor.address, admin.address, end), force=True)
    escrow = project.ScholarshipEscrow.at(record.escrow)
    token.mint(escrow, 10_000 * UNIT, sender=admin)
    escrow.setCourse(1, 450 * UNIT, 50 * UNIT, True, 0, sender=admin)
    escrow.setCourse(3, 450 * UNIT, 0, True, 2, sender=admin)
    escrow.setRegistrar(registrar, 5_000 * UNIT, end, 0, sender=admin)
    return escrow, token, registrar


def link_roster(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_ref", "course", "milestone"])
        writer.writerows(rows)
    return path


def sheet(folder):
    with (folder / "links.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_a_student_without_a_wallet_is_paid_through_the_link(program, tmp_path, chain, accounts):
    escrow, token, registrar = program
    roster = link_roster(tmp_path / "r.csv", [[f"UA-{n}", "1", "registration"] for n in range(3)])
    out = tmp_path / "sheet"
    jobs.attest(
        roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE, links_out=out
    )
    rows = sheet(out)
    assert [r["student_ref"] for r in rows] == ["UA-0", "UA-1", "UA-2"]
    assert escrow.reservedTotal() == 3 * 450 * UNIT
    assert escrow.registrar(registrar).released == 3 * 450 * UNIT
    assert len(list((out / "qr").glob("*.svg"))) == 3 and (out / "sheet.html").exists()
    link = Link.parse(rows[0]["link"])
    assert "?" not in rows[0]["link"] and link.escrow == escrow.address
    # The student opens the link and names a wallet; the relayer (anyone) submits.
    claim = sign_claim(
        link.student_id, link.milestone, wallet(1), chain.pending_timestamp + DAY,
        link.chain_id, link.escrow, link.claim_key,
    )  # fmt: skip
    escrow.claim(claim.as_tuple(), sender=accounts[8])
    assert token.balanceOf(wallet(1)) == 450 * UNIT

    # A rerun (after a crash, say) reserves nothing again and writes the same links.
    again = tmp_path / "again"
    jobs.attest(
        roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE, links_out=again
    )
    assert [r["link"] for r in sheet(again)] == [r["link"] for r in rows[1:]]
    assert escrow.registrar(registrar).released == 3 * 450 * UNIT


def test_a_lost_link_is_reissued_with_a_new_key(program, tmp_path, chain, accounts):
    escrow, token, registrar = program
    roster = link_roster(tmp_path / "r.csv", [["UA-9", "1", "registration"]])
    jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                links_out=tmp_path / "one")  # fmt: skip
    lost = Link.parse(sheet(tmp_path / "one")[0]["link"])
    escrow.cancelReservations([(lost.student_id, 0)], sender=registrar)
    jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                links_out=tmp_path / "two")  # fmt: skip
    new = Link.parse(sheet(tmp_path / "two")[0]["link"])
    assert new.claim_key != lost.claim_key
    old_claim = sign_claim(
        lost.student_id, Milestone.REGISTRATION, wallet(2), chain.pending_timestamp + DAY,
        lost.chain_id, lost.escrow, lost.claim_key,
    )  # fmt: skip
    import ape

    with ape.reverts(escrow.EscrowInvalidClaimSignature):
        escrow.claim(old_claim.as_tuple(), sender=accounts[8])


def test_a_link_roster_names_every_bad_row_and_reserves_nothing(program, tmp_path):
    escrow, token, registrar = program
    roster = link_roster(
        tmp_path / "r.csv",
        [["UA-1", "1", "registration"], ["UA-2", "3", "registration"], ["UA-3", "7", "registration"],
         ["UA-4", "1", "graduation"]],
    )  # fmt: skip
    with pytest.raises(RosterError) as caught:
        jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                    links_out=tmp_path / "x")  # fmt: skip
    assert {(e.row, e.field) for e in caught.value.errors} == {
        (3, "course"),
        (4, "course"),
        (5, "milestone"),
    }
    assert escrow.reservedTotal() == 0 and not (tmp_path / "x").exists()


def test_a_link_roster_without_a_claim_page_is_refused(program, tmp_path):
    _, _, registrar = program
    roster = link_roster(tmp_path / "r.csv", [["UA-1", "1", "registration"]])
    with pytest.raises(ItgenError, match="--claim-page"):
        jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True)
