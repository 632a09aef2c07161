"""The seed program end to end on a local chain: the IT Generation program in miniature.

The admin is a 2-of-3 Safe (1.4.1 at its canonical addresses) and a guardian key may only
pause. A BSC-USD-like token (18 decimals); the escrow with a program end nine months out;
the donor funds 1,000,000 USDT; the Safe sets 4 courses (450 USDT on registration, 50 on
completion) and 5 registrars in one Safe transaction; 2,000 synthetic students (fixed seed),
registered partly by registrars directly and partly through signed files submitted by a
relayer; a stolen registrar key: the guardian pauses, the Safe removes the key, adds a new
one and unpauses in one Safe transaction signed by two owners; 1,877 completions; the end
of the program and the remainder back to the donor; then the index and the audit.
"""

from __future__ import annotations

import csv
import random
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import click
from eth_utils import keccak, to_checksum_address

from itgen_chain import compiled, jobs
from itgen_chain.amounts import format_tokens
from itgen_chain.attestations import Attestation, Milestone

SEED = 2025
STUDENTS = 2_000
COMPLETIONS = 1_877
REGISTRARS = 5
COURSES = {1: "Python", 2: "Web development", 3: "Data analysis", 4: "QA engineering"}
DAY = 86_400
UNIT = 10**18
SIGNING_REGISTRARS = {3, 4}  # these two sign files for a relayer to submit
# Every tenth student has no wallet at registration and is paid by claim link; of those,
# NEVER_CLAIM never claim, and their scholarship goes back to the donor at the close.
WITHOUT_WALLET = 10
NEVER_CLAIM = 8


QUIET = lambda *_: None  # noqa: E731


def students(seed: int = SEED) -> list[dict[str, Any]]:
    """Synthetic students: a reference (stays in the roster files), a wallet, a course."""
    rng = random.Random(seed)
    result = []
    for n in range(STUDENTS):
        reference = f"UA-2025-{n + 1:05d}"
        wallet = to_checksum_address(keccak(f"{seed}:{reference}:wallet".encode())[-20:])
        result.append(
            {
                "ref": reference,
                "payee": wallet,
                "course": rng.choice(list(COURSES)),
                "registrar": n % REGISTRARS,
            }
        )
    return result


def write_roster(
    path: Path, rows: list[dict[str, Any]], milestone: str, payee: bool = True
) -> Path:
    """A roster; with `payee` false, a link roster (no payee column: claim links)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_ref", "payee", "course", "milestone"][: 4 if payee else 1]
                        + ([] if payee else ["course", "milestone"]))  # fmt: skip
        for row in rows:
            cells = [row["ref"], row["payee"], row["course"], milestone]
            writer.writerow(cells if payee else [cells[0], *cells[2:]])
    return path


def without_wallet(student: dict[str, Any]) -> bool:
    return int(student["ref"][-5:]) % WITHOUT_WALLET == 0


@dataclass
class Cast:
    """Who takes part: the deployer (also the relayer), the donor, five registrars, the
    Safe's three owners, the guardian, the replacement key for registrar 5, a thief."""

    deployer: Any
    donor: Any
    thief_wallet: Any
    registrars: list[Any]
    owners: list[Any]
    guardian: Any
    replacement: Any


def _cast() -> Cast:
    from ape import accounts

    test_accounts = accounts.test_accounts
    cast = Cast(
        deployer=test_accounts[0],
        donor=test_accounts[1],
        thief_wallet=test_accounts[9],
        registrars=[test_accounts[2 + i] for i in range(REGISTRARS)],
        owners=[test_accounts.generate_test_account() for _ in range(3)],
        guardian=test_accounts.generate_test_account(),
        replacement=test_accounts.generate_test_account(),
    )
    for account in (*cast.owners, cast.guardian, cast.replacement):
        cast.deployer.transfer(account, 100 * 10**18)
    return cast


def run(out: Path, echo: Any = click.echo, incident: bool = True) -> dict[str, Any]:
    """The whole program, step by step; returns the audit, its files, the seconds it took,
    what went back to the donor and the watch's alerts. Without `incident`, the honest
    program alone: no stolen key, no drill (the watch's benchmark)."""
    started = time.monotonic()
    cast = _cast()
    program, safe_address, end = _deploy_and_fund(cast, echo)
    _set_up_through_the_safe(program, cast, safe_address, end, echo)
    cohort = students()
    watch = _watch(program, cast, out)
    _registrations(program, cast, cohort, out, echo)
    never = _claims(program, cast, cohort, out, echo)
    alerts = _said(watch.poll(), "registrations and claims", echo)
    if incident:
        alerts += _incident(program, cast, safe_address, end, out, echo, watch)
    _completions(cast, [s for s in cohort if s["ref"] not in never], out, echo, incident)
    alerts += _said(
        watch.poll(), "the drill and the completions" if incident else "the completions", echo
    )
    if incident:
        echo(
            "   (the drill's changes are info; underfunded: the fund holds the 4,500 the thief took"
        )
        echo("   less than the registrars may still release)")
    returned = _close(program, cast, end, echo)
    report, paths = _index_and_audit(program, out, echo)
    elapsed = time.monotonic() - started
    echo("")
    echo(f"audit.json reconciled: {report['reconciled']}")
    echo(f"audit report: {paths['html'].resolve()}")
    echo(f"demo ran in {elapsed:.1f} s")
    return {
        "report": report, "paths": paths, "seconds": elapsed, "returned": returned,
        "alerts": alerts,
    }  # fmt: skip


def _deploy_and_fund(cast: Cast, echo: Any) -> tuple[Any, str, int]:
    from ape import chain, project

    from devtools import safe_contracts
    from itgen_chain.deployer import Terms, deploy
    from itgen_chain.program import connect

    echo("1. the charity's admin: a 2-of-3 Safe (1.4.1, canonical addresses); a guardian key")
    web3 = chain.provider.web3
    safe_contracts.deploy_canonical(web3, cast.deployer.address)
    owners = [o.address for o in cast.owners]
    safe_address = safe_contracts.create_safe(web3, cast.deployer.address, owners, 2)
    echo(f"   Safe {safe_address}, guardian {cast.guardian.address}")
    echo("   deploy: BSC-USD-like token, escrow ending in nine months, the Safe as admin")
    token = project.BscUsdLike.deploy(sender=cast.deployer)
    end = chain.pending_timestamp + 270 * DAY
    terms = Terms(
        token.address, cast.donor.address, safe_address, end, pauser=cast.guardian.address
    )
    deploy(cast.deployer, terms, force=True)
    program = connect()
    echo("2. the donor funds 1,000,000 USDT")
    token.mint(cast.donor, 1_000_000 * UNIT, sender=cast.donor)
    program.fund(program.funding("1000000", cast.donor), cast.donor)  # as `ape itgen fund`
    return program, safe_address, end


def _set_up_through_the_safe(
    program: Any, cast: Cast, safe_address: str, end: int, echo: Any
) -> None:
    from itgen_chain.signers import Sending, carry_out

    echo(
        "3. one Safe transaction, two owners: 4 courses (450 USDT on registration, 50 on "
        "completion) and 5 registrars (200,000 each: together, the fund)"
    )
    setup = [program.set_course(course, 450 * UNIT, 50 * UNIT) for course in COURSES]
    setup += [program.set_registrar(r.address, 200_000 * UNIT, end) for r in cast.registrars]
    shown: list[str] = []
    sending = Sending(cast.owners[0], safe_address, [cast.owners[1]], yes=True)
    carry_out(program, setup, sending, shown.append)
    echo(f"   {shown[-1][:52]}… ({len(setup)} calls, each shown decoded first)")


def _registrations(program: Any, cast: Cast, cohort: list, out: Path, echo: Any) -> None:
    from ape import chain

    linked = sum(1 for s in cohort if without_wallet(s))
    echo(
        f"4. {STUDENTS:,} registrations: registrars 1-3 attest, registrars 4-5 sign and a "
        f"relayer submits; {linked} students without a wallet get claim links"
    )
    page = (Path(str(files("itgen_chain"))) / "data" / "claim.html").resolve().as_uri()
    for index, registrar in enumerate(cast.registrars):
        mine = [s for s in cohort if s["registrar"] == index and not without_wallet(s)]
        links = [s for s in cohort if s["registrar"] == index and without_wallet(s)]
        reserve = write_roster(
            out / "rosters" / f"registrar-{index + 1}-links.csv", links, "registration", False
        )
        jobs.attest(reserve, registrar, batch_size=100, dry_run=False, yes=True, echo=QUIET,
                    claim_page=page, links_out=out / "claims" / f"registrar-{index + 1}")  # fmt: skip
        path = write_roster(
            out / "rosters" / f"registrar-{index + 1}-registrations.csv", mine, "registration"
        )
        if index in SIGNING_REGISTRARS:
            signed = out / "signed" / f"registrar-{index + 1}-registrations.json"
            signed.parent.mkdir(parents=True, exist_ok=True)
            jobs.sign(path, registrar, signed, valid_days=30, echo=QUIET)
            jobs.relay(signed, cast.deployer, batch_size=100, dry_run=False, yes=True, echo=QUIET)
        else:
            jobs.attest(path, registrar, batch_size=100, dry_run=False, yes=True, echo=QUIET)
        # Two days pass (a block is mined then, so that simulations see the same time).
        chain.pending_timestamp += 2 * DAY
        chain.mine()


def _claims(program: Any, cast: Cast, cohort: list, out: Path, echo: Any) -> set[str]:
    """The students with links claim through the charity's relayer over the next weeks
    (each signs with the key in the link, naming their new wallet); a few never claim.
    Returns the references of those who never do."""
    import csv as table

    from ape import chain

    from itgen_chain.relayer import ClaimDesk
    from itgen_chain.reservations import Link, sign_claim

    links = []
    for index in range(REGISTRARS):
        # The registrar matches each link to its student by the row of its own roster.
        roster = out / "rosters" / f"registrar-{index + 1}-links.csv"
        with roster.open() as handle:
            refs = {n: row["student_ref"] for n, row in enumerate(table.DictReader(handle), 2)}
        with (out / "claims" / f"registrar-{index + 1}" / "links.csv").open() as handle:
            links += [
                (refs[int(r["row"])], Link.parse(r["link"])) for r in table.DictReader(handle)
            ]
    wallets = {s["ref"]: s["payee"] for s in cohort}
    never = {ref for ref, _ in random.Random(SEED + 2).sample(links, NEVER_CLAIM)}
    claiming = [(ref, link) for ref, link in links if ref not in never]
    desk = ClaimDesk(program, out / "relayer-journal.jsonl")
    echo(f"   {len(claiming)} claim through the relayer over four weeks; {len(never)} never claim")
    for week, start in enumerate(range(0, len(claiming), -(-len(claiming) // 4))):
        for ref, link in claiming[start : start + -(-len(claiming) // 4)]:
            claim = sign_claim(
                link.student_id, link.milestone, wallets[ref], chain.pending_timestamp + 7 * DAY,
                link.chain_id, link.escrow, link.claim_key,
            )  # fmt: skip
            if not desk.accept(claim).accepted:
                raise RuntimeError(f"the relayer refused {ref}'s claim")
        desk.submit(cast.deployer)
        chain.pending_timestamp += (week + 1) * 3 * DAY
        chain.mine()
    return never


def _watch(program: Any, cast: Cast, out: Path) -> Any:
    """`ape itgen watch` beside the program, from the next block, with the guardian's key."""
    from itgen_chain.watch import Watch

    state = out / "watch.json"
    state.unlink(missing_ok=True)
    return Watch(program, state, [], cast.guardian)


def _said(alerts: list, when: str, echo: Any) -> list:
    counts = {s: sum(a.severity == s for a in alerts) for s in ("critical", "warning", "info")}
    echo(
        f"   watch, over {when}: {counts['critical']} critical, {counts['warning']} warning(s), "
        f"{counts['info']} info ({', '.join(sorted({a.rule for a in alerts})) or 'none'})"
    )
    return alerts


def _incident(
    program: Any, cast: Cast, safe_address: str, end: int, out: Path, echo: Any, watch: Any
) -> list:
    """Registrar 5's key is stolen: the thief stays inside the key's allowance, paying its
    own wallet for invented students in batches of 10, one batch a block; the watch sees one
    wallet paid for many students and pauses with the guardian key by itself; then one Safe
    transaction file replaces the key and resumes."""
    from ape import chain
    from web3.exceptions import ContractLogicError

    from itgen_chain import safe as safes
    from itgen_chain import safe_file
    from itgen_chain.compiled import escrow_abi
    from itgen_chain.signers import Sending, carry_out, execute

    echo("5. incident: registrar 5's key is stolen; the thief stays inside its allowance")
    escrow, stolen = program.escrow, cast.registrars[4]
    abi = escrow_abi(escrow.contract_type)
    w3 = chain.provider.web3
    w3_escrow = w3.eth.contract(escrow.address, abi=abi)
    thief = cast.thief_wallet.address
    first_time, seen = None, []
    for batch in range(20):
        fakes = [
            Attestation(keccak(f"fake-{batch}-{n}".encode()), thief, 1, Milestone.REGISTRATION)
            .as_tuple()
            for n in range(10)
        ]  # fmt: skip
        try:  # through web3: ape would print the whole call trace of the expected revert
            tx = w3_escrow.functions.attestBatch(fakes).transact({"from": stolen.address})
        except ContractLogicError:
            break
        block = w3.eth.get_block(w3.eth.wait_for_transaction_receipt(tx)["blockNumber"])
        first_time = first_time or block["timestamp"]
        chain.pending_timestamp = block["timestamp"] + 1  # the next block, 0.45 s on BSC
        seen += watch.poll()
        if escrow.paused():
            paused_at = w3.eth.get_block("latest")["timestamp"]
            break
    lost = program.token.balanceOf(thief)
    echo(
        f"   the watch saw one wallet paid for {lost // (450 * UNIT)} students and paused with the "
        f"guardian key by itself, {paused_at - first_time} s (chain time) after the thief's "
        f"first payout; the thief got {format_tokens(lost, 18)} USDT, its next batch reverts"
    )
    _said(seen, "the incident", echo)
    # The new key gets what registrar 5's students' completions need: what the stolen key had
    # left and what the thief took from it. The fund is that much short: the watch says so.
    standing = escrow.registrar(stolen.address)
    left = standing.allowance - standing.released + lost
    drill = [
        program.remove_registrar(stolen.address),
        program.set_registrar(cast.replacement.address, left, end),
        program.unpause(),
    ]
    carried = out / "drill.safe-tx.json"
    carried.unlink(missing_ok=True)
    sending = Sending(cast.owners[0], safe_address, safe_tx_file=carried, yes=True)
    carry_out(program, drill, sending, QUIET)
    echo(
        f"   owner 1 wrote one Safe transaction file, {carried.name}: remove the stolen key, "
        "add a new key for registrar 5 with what its students' completions need "
        f"({format_tokens(left, 18)} USDT), unpause (1 of 2 signatures)"
    )
    document = safe_file.read(carried)
    document.signatures[cast.owners[2].address] = safes.sign(cast.owners[2], document.safe_tx)
    safe = safes.read(chain.provider.web3, safe_address)
    execute(program, safe, document.safe_tx, document.signatures, [], cast.owners[2], QUIET)
    echo(
        f"   owner 3 saw the calls decoded, signed {document.safe_tx.hash_hex[:12]}… and "
        "executed it; releases resume"
    )
    return seen


def _completions(cast: Cast, cohort: list, out: Path, echo: Any, incident: bool) -> None:
    from ape import chain

    chain.pending_timestamp += 120 * DAY
    completing = random.Random(SEED + 1).sample(cohort, COMPLETIONS)
    echo(f"6. {COMPLETIONS:,} completions, attested directly")
    for index, registrar in enumerate(cast.registrars):
        mine = [s for s in completing if s["registrar"] == index]
        path = write_roster(
            out / "rosters" / f"registrar-{index + 1}-completions.csv", mine, "completion"
        )
        signer = cast.replacement if incident and index == 4 else registrar
        jobs.attest(path, signer, batch_size=100, dry_run=False, yes=True, echo=QUIET)
        chain.pending_timestamp += DAY


def _close(program: Any, cast: Cast, end: int, echo: Any) -> int:
    from ape import chain

    echo("7. the program ends; the remainder goes back to the donor")
    chain.pending_timestamp = end + 1
    chain.mine()
    escrow = program.escrow
    returned = escrow.reclaim(sender=cast.donor).events.filter(escrow.Reclaimed)[0].amount
    echo(f"   reclaimed {format_tokens(returned, 18)} USDT to {cast.donor.address}")
    return returned


def _index_and_audit(program: Any, out: Path, echo: Any) -> tuple[dict[str, Any], dict]:
    from ape import chain

    from itgen_chain.audit import run_audit
    from itgen_chain.compiled import escrow_abi
    from itgen_chain.indexer import for_deployment

    echo("8. index and audit")
    db = out / "index.sqlite"
    db.unlink(missing_ok=True)
    abi = escrow_abi(compiled.escrow_type())
    added = for_deployment(program.deployment, chain.provider, abi, db).run()
    echo(f"   indexed {added:,} events")
    return run_audit(db, out / "audit", echo=echo)
