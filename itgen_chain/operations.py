"""The work behind the attest, sign and relay scripts, callable from Python too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from itgen_chain.amounts import format_tokens
from itgen_chain.attestations import Attestation, Milestone, SignedAttestation, recover, signable
from itgen_chain.cli import confirm_or_stop, connect
from itgen_chain.escrow import EscrowClient, Plan, guard_node
from itgen_chain.exceptions import ItgenError, RosterError, RowError
from itgen_chain.journal import Journal
from itgen_chain.roster import parse_roster


def _network_choice() -> str:
    """The --network value that reconnects to this network with this provider."""
    from ape import chain

    provider = chain.provider
    return f"{provider.network.ecosystem.name}:{provider.network.name}:{provider.name}"


def _describe(plan: Plan, decimals: int, batch_size: int, echo: Any) -> None:
    echo(
        f"{len(plan.to_send)} to pay ({format_tokens(plan.total, decimals)} tokens) in "
        f"{len(plan.batches(batch_size))} transaction(s); {len(plan.skipped)} already paid, skipped"
    )


def _dry_run(
    client: EscrowClient, plan: Plan, sender: Any, batch_size: int, by_sig: bool, echo: Any
) -> None:
    from ape import chain

    batches = plan.batches(batch_size)
    if not batches:
        echo("nothing to send")
        return
    method = client.escrow.attestBatchBySig if by_sig else client.escrow.attestBatch
    gas = sum(
        method.estimate_gas_cost([i.as_call_argument() for i in b], sender=sender)
        for b in batches[:1]
    )
    total_gas = gas * len(batches)
    price = chain.provider.web3.eth.gas_price
    fee = chain.provider.network.ecosystem.fee_token_symbol
    echo(
        f"dry run: about {total_gas:,} gas at {price / 1e9:.2f} gwei = "
        f"{total_gas * price / 1e18:.6f} {fee}; nothing sent"
    )


def _run(
    command: str,
    path: Path,
    account: Any,
    make_plan: Callable[[Any, EscrowClient], Plan],
    *,
    batch_size: int,
    dry_run: bool,
    yes: bool,
    by_sig: bool,
    echo: Any,
) -> Plan:
    """What attest and relay share: settle an interrupted run, plan from the chain, describe,
    then a dry run or, once confirmed, the batches; a lost node names the resuming command."""
    from ape import chain

    resume = f"ape run {command} {path} --network {_network_choice()} --account {account.alias}"

    @guard_node(resume)
    def run() -> Plan:
        conn = connect()
        client = EscrowClient(conn.escrow, conn.token, chain.provider)
        journal = Journal.for_run(
            chain.chain_id, conn.escrow.address, account.address, conn.deployment.salt_id
        )
        if settled := client.settle(journal):
            echo(f"settled {settled} transaction(s) left by an interrupted run")
        plan = make_plan(conn, client)
        _describe(plan, conn.decimals, batch_size, echo)
        if dry_run:
            _dry_run(client, plan, account, batch_size, by_sig, echo)
        elif plan.to_send:
            confirm_or_stop(
                f"Release {format_tokens(plan.total, conn.decimals)} tokens of scholarships?", yes
            )
            with click.progressbar(length=len(plan.to_send), label="attesting") as bar:
                hashes = client.send(
                    plan, account, journal, batch_size, by_sig, conn.legacy_gas, bar.update
                )
            paid = len(plan.to_send) - len(plan.skipped_on_chain)
            echo(f"paid {paid} in {len(hashes)} transaction(s)")
            if plan.skipped_on_chain:
                rows = ", ".join(str(row) for row in sorted(plan.skipped_on_chain))
                echo(
                    f"{len(plan.skipped_on_chain)} skipped by the escrow, paid meanwhile by "
                    f"another transaction: row(s) {rows}"
                )
        return plan

    return run()


def attest(
    path: Path,
    account: Any,
    *,
    batch_size: int,
    dry_run: bool,
    yes: bool,
    echo: Any = click.echo,
) -> Plan:
    """Validates ROSTER against the chain and pays it in batches as the registrar `account`."""

    def make_plan(conn: Any, client: EscrowClient) -> Plan:
        rows, errors = parse_roster(path, conn.deployment.salt)
        return client.plan(str(path), rows, account.address, errors=errors)

    return _run(
        "attest",
        path,
        account,
        make_plan,
        batch_size=batch_size,
        dry_run=dry_run,
        yes=yes,
        by_sig=False,
        echo=echo,
    )


def sign(path: Path, account: Any, out: Path, *, valid_days: int, echo: Any = click.echo) -> int:
    """Signs every row of ROSTER (EIP-712) with the registrar's key into a file to hand over."""
    from ape import chain

    conn = connect()
    rows, errors = parse_roster(path, conn.deployment.salt)
    client = EscrowClient(conn.escrow, conn.token, chain.provider)
    client.plan(str(path), rows, account.address, errors=errors)  # the checks a relayer will make
    epoch = conn.escrow.registrar(account.address).epoch
    deadline = chain.pending_timestamp + valid_days * 86_400
    entries = []
    if hasattr(account, "set_autosign"):  # a keystore account: one passphrase, not one per row
        click.confirm(
            f"Sign {len(rows)} attestation(s) with {account.alias}?", abort=True, default=True
        )
        account.set_autosign(True)
    try:
        with click.progressbar(rows, label="signing") as bar:
            for row in bar:
                message = signable(
                    row.attestation, epoch, deadline, chain.chain_id, conn.escrow.address
                )
                signature = account.sign_message(message)
                entries.append(
                    {
                        "row": row.row,
                        "studentId": "0x" + row.attestation.student_id.hex(),
                        "payee": row.attestation.payee,
                        "courseId": row.attestation.course_id,
                        "milestone": row.attestation.milestone.name.lower(),
                        "signature": "0x" + signature.encode_rsv().hex(),
                    }
                )
    finally:
        if hasattr(account, "set_autosign"):
            account.set_autosign(False)
    document = {
        "format": "itgen-chain/signed-attestations/1",
        "chainId": chain.chain_id,
        "escrow": conn.escrow.address,
        "registrar": account.address,
        "epoch": epoch,
        "deadline": deadline,
        "attestations": entries,
    }
    out.write_text(json.dumps(document, indent=1) + "\n")
    echo(f"signed {len(entries)} attestation(s) valid until {deadline}; wrote {out}")
    return len(entries)


def read_signed(path: Path, chain_id: int, escrow: str) -> list[tuple[int, SignedAttestation, str]]:
    """Reads a signed file: each row, its signed attestation and the address it recovers to."""
    document = json.loads(Path(path).read_text())
    if document.get("chainId") != chain_id or document.get("escrow", "").lower() != escrow.lower():
        raise ItgenError(
            f"{path} was signed for chain {document.get('chainId')} escrow {document.get('escrow')}, "
            f"not chain {chain_id} escrow {escrow}"
        )
    signed = []
    for entry in document["attestations"]:
        attestation = Attestation(
            bytes.fromhex(entry["studentId"].removeprefix("0x")),
            entry["payee"],
            int(entry["courseId"]),
            Milestone.parse(entry["milestone"]),
        )
        item = SignedAttestation(
            attestation,
            int(document.get("epoch", 0)),
            int(document["deadline"]),
            bytes.fromhex(entry["signature"].removeprefix("0x")),
        )
        try:
            signer = recover(item, chain_id, escrow)
        except ValueError as error:
            signer = f"invalid: {error}"
        signed.append((int(entry["row"]), item, signer))
    return signed


def relay(
    path: Path,
    account: Any,
    *,
    batch_size: int,
    dry_run: bool,
    yes: bool,
    echo: Any = click.echo,
) -> Plan:
    """Submits a signed file from any funded account, after checking every signature."""

    def make_plan(conn: Any, client: EscrowClient) -> Plan:
        from ape import chain

        from itgen_chain.roster import RosterRow

        entries = read_signed(path, chain.chain_id, conn.escrow.address)
        now = chain.provider.get_block("latest").timestamp
        errors, signers, standings = [], {}, {}
        for row, item, signer in entries:
            if signer.startswith("invalid"):
                errors.append(RowError(row, "signature", signer))
                continue
            if signer not in standings:
                standings[signer] = conn.escrow.registrar(signer)
            standing = standings[signer]
            if not standing.active or now > standing.expiry:
                errors.append(
                    RowError(row, "signature", f"recovers to {signer}, not a current registrar")
                )
            elif standing.epoch != item.epoch:
                errors.append(
                    RowError(
                        row,
                        "signature",
                        f"signed in epoch {item.epoch} of registrar {signer}, which was removed "
                        f"since (now in epoch {standing.epoch}): ask it to sign again",
                    )
                )
            elif now > item.deadline:
                errors.append(RowError(row, "signature", f"expired at {item.deadline}"))
            signers[row] = signer
        if errors:
            raise RosterError(str(path), errors)
        rows = [RosterRow(row, item.attestation) for row, item, _ in entries]
        signed = {row: item for row, item, _ in entries}
        return client.plan(str(path), rows, signers.__getitem__, signed)

    return _run(
        "relay",
        path,
        account,
        make_plan,
        batch_size=batch_size,
        dry_run=dry_run,
        yes=yes,
        by_sig=True,
        echo=echo,
    )
