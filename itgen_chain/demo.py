"""The seed program end to end on a local chain: the IT Generation program in miniature.

A BSC-USD-like token (18 decimals); the escrow with a program end nine months out; the
donor funds 1,000,000 USDT; 5 registrars; 4 courses paying 450 USDT on registration and
50 on completion; 2,000 synthetic students (fixed seed), registered partly by registrars
directly and partly through signed files relayed by the admin; a stolen registrar key
and the controls that contain it; 1,877 completions; the end of the program and the
remainder back to the donor; then the index and the audit.
"""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path
from typing import Any

import click
from eth_utils import keccak, to_checksum_address

from itgen_chain import compiled, operations
from itgen_chain.amounts import format_tokens
from itgen_chain.attestations import Attestation, Milestone

SEED = 2025
STUDENTS = 2_000
COMPLETIONS = 1_877
REGISTRARS = 5
COURSES = {1: "Python", 2: "Web development", 3: "Data analysis", 4: "QA engineering"}
DAY = 86_400
UNIT = 10**18
SIGNING_REGISTRARS = {3, 4}  # these two sign files for the admin to relay


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


def write_roster(path: Path, rows: list[dict[str, Any]], milestone: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_ref", "payee", "course", "milestone"])
        for row in rows:
            writer.writerow([row["ref"], row["payee"], row["course"], milestone])
    return path


def run(out: Path, echo: Any = click.echo) -> dict[str, Any]:
    from ape import accounts, chain, project
    from web3.exceptions import ContractLogicError

    from itgen_chain.auditing import run_audit
    from itgen_chain.deploying import Terms, deploy
    from itgen_chain.indexer import escrow_abi, for_deployment
    from itgen_chain.reverts import explain

    started = time.monotonic()
    quiet = lambda *_: None  # noqa: E731
    test_accounts = accounts.test_accounts
    admin, donor, thief_wallet = test_accounts[0], test_accounts[1], test_accounts[9]
    registrars = [test_accounts[2 + i] for i in range(REGISTRARS)]
    replacement = test_accounts.generate_test_account()
    admin.transfer(replacement, 10**18)

    echo("1. deploy: BSC-USD-like token, escrow ending in nine months")
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 270 * DAY
    record = deploy(admin, Terms(token.address, donor.address, admin.address, end), force=True)
    escrow = chain.contracts.instance_at(record.escrow, contract_type=compiled.escrow_type())

    echo("2. the donor funds 1,000,000 USDT")
    token.mint(donor, 1_000_000 * UNIT, sender=donor)
    token.approve(escrow, 1_000_000 * UNIT, sender=donor)
    escrow.fund(1_000_000 * UNIT, sender=donor)

    echo("3. 4 courses (450 USDT on registration, 50 on completion), 5 registrars (210,000 each)")
    for course in COURSES:
        escrow.setCourse(course, 450 * UNIT, 50 * UNIT, True, sender=admin)
    for registrar in registrars:
        escrow.setRegistrar(registrar, 210_000 * UNIT, end, sender=admin)

    cohort = students()
    rosters = out / "rosters"
    echo(
        f"4. {STUDENTS:,} registrations: registrars 1-3 attest, registrars 4-5 sign and the admin relays"
    )
    for index, registrar in enumerate(registrars):
        mine = [s for s in cohort if s["registrar"] == index]
        path = write_roster(
            rosters / f"registrar-{index + 1}-registrations.csv", mine, "registration"
        )
        if index in SIGNING_REGISTRARS:
            signed = out / "signed" / f"registrar-{index + 1}-registrations.json"
            signed.parent.mkdir(parents=True, exist_ok=True)
            operations.sign(path, registrar, signed, valid_days=30, echo=quiet)
            operations.relay(signed, admin, batch_size=100, dry_run=False, yes=True, echo=quiet)
        else:
            operations.attest(path, registrar, batch_size=100, dry_run=False, yes=True, echo=quiet)
        chain.pending_timestamp += 2 * DAY

    echo("5. incident: registrar 5's key is stolen")
    stolen = registrars[4]
    remaining = escrow.registrar(stolen).allowance - escrow.registrar(stolen).released
    fakes = [
        Attestation(
            keccak(f"fake-{n}".encode()), thief_wallet.address, 1, Milestone.REGISTRATION
        ).as_tuple()
        for n in range(remaining // (450 * UNIT) + 1)
    ]
    abi = escrow_abi(escrow.contract_type)
    w3_escrow = chain.provider.web3.eth.contract(escrow.address, abi=abi)
    try:  # through web3: ape would print the whole call trace of the expected revert
        w3_escrow.functions.attestBatch(fakes).call({"from": stolen.address})
        raise AssertionError("the thief's batch went through")
    except ContractLogicError as error:
        reason = explain(error, abi, 18)
        echo(
            f"   the thief asks for {len(fakes)} x 450 USDT, beyond the key's remaining allowance "
            f"({format_tokens(remaining, 18)}): reverted, {reason}"
        )
    escrow.pause(sender=admin)
    escrow.removeRegistrar(stolen, sender=admin)
    escrow.setRegistrar(replacement, 30_000 * UNIT, end, sender=admin)
    escrow.unpause(sender=admin)
    echo(
        f"   the admin paused, removed {stolen.address[:10]}…, added a new key for registrar 5 "
        "(30,000 USDT) and unpaused; the thief got nothing"
    )

    chain.pending_timestamp += 120 * DAY
    completing = random.Random(SEED + 1).sample(cohort, COMPLETIONS)
    echo(f"6. {COMPLETIONS:,} completions, attested directly")
    for index, registrar in enumerate(registrars):
        mine = [s for s in completing if s["registrar"] == index]
        path = write_roster(rosters / f"registrar-{index + 1}-completions.csv", mine, "completion")
        signer = replacement if index == 4 else registrar
        operations.attest(path, signer, batch_size=100, dry_run=False, yes=True, echo=quiet)
        chain.pending_timestamp += DAY

    echo("7. the program ends; the remainder goes back to the donor")
    chain.pending_timestamp = end + 1
    chain.mine()
    returned = escrow.reclaim(sender=admin).events.filter(escrow.Reclaimed)[0].amount
    echo(f"   reclaimed {format_tokens(returned, 18)} USDT to {donor.address}")

    echo("8. index and audit")
    db = out / "index.sqlite"
    if db.exists():
        db.unlink()
    indexer = for_deployment(record, chain.provider, escrow_abi(compiled.escrow_type()), db)
    added = indexer.run()
    echo(f"   indexed {added:,} events")
    report, paths = run_audit(db, out / "audit", echo=echo)
    elapsed = time.monotonic() - started
    echo("")
    echo(f"audit.json reconciled: {report['reconciled']}")
    echo(f"audit report: {paths['html'].resolve()}")
    echo(f"demo ran in {elapsed:.1f} s")
    return {"report": report, "paths": paths, "seconds": elapsed, "returned": returned}
