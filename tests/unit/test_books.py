"""The books' pure steps on hand-made events: no chain, no database."""

from __future__ import annotations

from itgen_chain.books import Event, cross_check, differences, grouped, tally

ESCROW = "0x" + "e5" * 20
TOKEN_HOLDER = "0x" + "d0" * 20
REGISTRAR = "0x" + "7e" * 20
OTHER = "0x" + "0a" * 20
UNIT = 10**18


def release(block: int, tx: str, student: int, amount: int, course: int = 1, milestone=0):
    return Event(block, 0, tx, "ScholarshipReleased", {
        "studentId": f"0x{student:064x}", "payee": f"0x{student:040x}", "registrar": REGISTRAR,
        "courseId": course, "milestone": milestone, "amount": amount,
    }, 86_400 * block)  # fmt: skip


def transfer(block: int, tx: str, source: str, target: str, value: int):
    return Event(block, 1, tx, "Transfer", {"from": source, "to": target, "value": value}, None)


def program_events():
    return [
        Event(1, 0, "0xf1", "Funded", {"funder": TOKEN_HOLDER, "amount": 1000 * UNIT}, 0),
        transfer(1, "0xf1", TOKEN_HOLDER, ESCROW, 1000 * UNIT),
        release(2, "0xa1", 1, 450 * UNIT),
        transfer(2, "0xa1", ESCROW, f"0x{1:040x}", 450 * UNIT),
        release(3, "0xa2", 2, 50 * UNIT, milestone=1),
        transfer(3, "0xa2", ESCROW, f"0x{2:040x}", 50 * UNIT),
        transfer(4, "0xd1", OTHER, ESCROW, 7 * UNIT),  # a stray direct transfer in
        transfer(5, "0xs1", ESCROW, ESCROW, 5 * UNIT),  # to itself: moves nothing
    ]


def test_tally_counts_every_amount_once():
    t = tally(program_events(), ESCROW.upper().replace("0X", "0x"))
    assert (t.funded, t.released, t.direct_in, t.balance) == (
        1000 * UNIT, 500 * UNIT, 7 * UNIT, 507 * UNIT,
    )  # fmt: skip
    assert [p.milestone for p in t.payouts] == ["registration", "completion"]
    assert differences(t) == []


def test_a_transfer_out_without_its_release_is_a_difference():
    events = [*program_events(), transfer(6, "0xbad", ESCROW, OTHER, 1 * UNIT)]
    found = differences(tally(events, ESCROW))
    assert [(d["kind"], d["tx_hash"]) for d in found] == [
        ("transfer out without matching release/reclaim", "0xbad")
    ]
    assert tally(events, ESCROW).balance == 506 * UNIT  # the books follow the token


def test_the_escrows_events_alone_give_the_books_of_a_program_without_strays():
    """An index that holds only the escrow's events (the indexer's common case: no stray
    transfer, so the token's transfers were never scanned) books the same amounts."""
    events = [e for e in program_events() if e.name != "Transfer"]
    t = tally(events, ESCROW)
    assert (t.funded, t.released, t.direct_in, t.balance) == (
        1000 * UNIT, 500 * UNIT, 0, 500 * UNIT,
    )  # fmt: skip
    assert differences(t, balance=500 * UNIT) == []
    # The stray found and kept, alone: its transaction has no Funded event.
    found = [*events, transfer(4, "0xd1", OTHER, ESCROW, 7 * UNIT)]
    assert tally(found, ESCROW).direct_in == 7 * UNIT
    assert differences(tally(found, ESCROW), balance=507 * UNIT) == []


def test_a_balance_read_that_differs_is_a_difference():
    t = tally(program_events(), ESCROW)
    [found] = differences(t, balance=t.balance + 1)
    assert found["kind"] == "balance read from the chain differs from the events"
    head = {"block": 9, "balance": t.balance + 3 * UNIT, "net_since": 3 * UNIT}
    assert differences(t, head_check=head) == []


def test_grouped_counts_and_sums_per_key():
    t = tally(program_events(), ESCROW)
    per_milestone = grouped(t.payouts, lambda p: p.milestone, 18)
    assert per_milestone["registration"] == {
        "count": 1, "released": {"base_units": str(450 * UNIT), "tokens": "450"},
    }  # fmt: skip
    assert set(grouped(t.payouts, lambda p: p.day, 18)) == {"1970-01-03", "1970-01-04"}


def test_cross_check_names_a_row_paid_to_another_wallet():
    t = tally(program_events(), ESCROW)
    roster = [
        (2, (1).to_bytes(32, "big"), 0, f"0x{1:040x}"),
        (3, (2).to_bytes(32, "big"), 1, "0x" + "99" * 20),
        (4, (3).to_bytes(32, "big"), 0, f"0x{3:040x}"),
    ]
    checked = cross_check(roster, t.payouts)
    assert checked["attested_not_paid"] == [4]
    assert [j["row"] for j in checked["paid_to_another_payee"]] == [3]
    assert checked["paid_not_on_roster"] == [] and checked["paid_twice"] == []


def reserved(block: int, student: int, amount: int, course: int = 1):
    return Event(block, 0, f"0xr{block}", "ScholarshipReserved", {
        "studentId": f"0x{student:064x}", "claimKey": f"0x{student + 7:040x}",
        "registrar": REGISTRAR, "courseId": course, "milestone": 0, "amount": amount,
    }, 86_400 * block)  # fmt: skip


def test_links_are_booked_as_reserved_then_claimed_cancelled_returned_or_open():
    from itgen_chain.books import reservations

    claim = Event(9, 1, "0xc9", "ScholarshipClaimed", {
        "studentId": f"0x{1:064x}", "claimKey": f"0x{8:040x}", "milestone": 0,
    }, 86_400 * 9)  # fmt: skip
    cancel = Event(5, 0, "0xx5", "ReservationCancelled", {
        "studentId": f"0x{2:064x}", "registrar": REGISTRAR, "caller": REGISTRAR,
        "milestone": 0, "amount": 450 * UNIT,
    }, 86_400 * 5)  # fmt: skip
    events = [
        reserved(2, 1, 450 * UNIT),
        reserved(3, 2, 450 * UNIT),
        cancel,
        reserved(6, 2, 450 * UNIT),  # reissued: a new link
        reserved(7, 3, 300 * UNIT, course=2),
        release(9, "0xc9", 1, 450 * UNIT),
        claim,
    ]
    books = reservations(tally(events, ESCROW), 18)
    tokens = {k: books[k]["tokens"] for k in ("reserved", "claimed", "cancelled", "open")}
    assert tokens == {"reserved": "1650", "claimed": "450", "cancelled": "450", "open": "750"}
    assert books["adds_up"]
    assert books["unclaimed_student_ids"] == [f"0x{2:064x}", f"0x{3:064x}"]
    assert books["claim_delay_days"] == [7.0]
    assert books["per_course"]["2"]["reserved"]["tokens"] == "300"
    closed = events + [Event(20, 0, "0xz", "UnclaimedReturned", {"amount": 750 * UNIT}, 0)]
    after = reservations(tally(closed, ESCROW), 18)
    assert (after["returned_unclaimed"]["tokens"], after["open"]["tokens"]) == ("750", "0")
