"""The jobs behind `attest`, `sign` and `relay`: a roster or a signed file, checked against
the chain, then paid (or signed) with a journal. The caller passes how to talk: echo,
confirm and a progress bar (see console.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itgen_chain import signed_file
from itgen_chain.amounts import format_tokens
from itgen_chain.attestations import MAX_SIGNATURE_VALIDITY, SignedAttestation, signable
from itgen_chain.console import Confirm, Echo, Progress, ask, no_progress, quiet
from itgen_chain.exceptions import ClaimJumped, ItgenError, RosterError, RowError
from itgen_chain.journal import Journal
from itgen_chain.payouts import Payouts, Plan, guard_node
from itgen_chain.program import connect
from itgen_chain.roster import LATEST_RULE, ParsedRoster, is_link_roster, parse_roster
from itgen_chain.signers import signing


def _network_choice() -> str:
    """The --network value that reconnects to this network with this provider."""
    from ape import chain

    provider = chain.provider
    return f"{provider.network.ecosystem.name}:{provider.network.name}:{provider.name}"


def _parse(
    path: Path,
    program: Any,
    pattern: str | None,
    delimiter: str | None,
    program_name: str,
    echo: Echo,
) -> ParsedRoster:
    """The roster under the program's reference rule and pattern (--reference-pattern, else
    the program's `reference_patterns` entry in the itgen: config); ignored columns named."""
    from itgen_chain.config import settings

    pattern = pattern or settings().reference_patterns.get(program_name)
    rule = getattr(program.deployment, "reference_rule", LATEST_RULE)
    parsed = parse_roster(
        path, program.deployment.salt, pattern=pattern, delimiter=delimiter, rule=rule
    )
    if parsed.ignored:
        echo(f"{path}: column(s) {', '.join(parsed.ignored)} ignored (not roster columns)")
    return parsed


def _report_claim_jumps(plan: Plan, echo: Echo) -> None:
    """Lists every claim-jump (claims.py) and fails the command after the run's own work."""
    for jump in plan.claim_jumps:
        echo(jump.line())
    if plan.claim_jumps:
        raise ClaimJumped(plan.claim_jumps)


def _describe(plan: Plan, decimals: int, batch_size: int, echo: Echo) -> None:
    echo(
        f"{len(plan.to_send)} to pay ({format_tokens(plan.total, decimals)} tokens) in "
        f"{len(plan.batches(batch_size))} transaction(s); {len(plan.skipped)} already paid, skipped"
    )


def _dry_run(
    client: Payouts, plan: Plan, sender: Any, batch_size: int, by_sig: bool, echo: Echo
) -> None:
    from ape import chain

    if not plan.to_send:
        echo("nothing to send")
        return
    batches = list(client.fit(plan, batch_size, by_sig, sender))
    total_gas = sum(gas for _, gas in batches)
    price = chain.provider.web3.eth.gas_price
    fee = chain.provider.network.ecosystem.fee_token_symbol
    echo(
        f"dry run: {len(batches)} transaction(s), about {total_gas:,} gas at {price / 1e9:.2f} gwei = "
        f"{total_gas * price / 1e18:.6f} {fee}; nothing sent"
    )


@dataclass(frozen=True)
class RunOptions:
    """How a paying run goes: what attest and relay take besides their file and account."""

    batch_size: int
    dry_run: bool
    yes: bool
    program_name: str = "main"
    escrow: str | None = None
    salt_file: Path | None = None
    verbose: bool = False

    def resume(self, command: str, path: Path, account: Any) -> str:
        """The `ape itgen` command line that runs this again (and resumes it)."""
        line = f"ape itgen {command} {path} --network {_network_choice()} --account {account.alias}"
        if self.program_name != "main":
            line += f" --program {self.program_name}"
        if self.escrow:
            line += f" --escrow {self.escrow}"
            line += f" --salt-file {self.salt_file}" if self.salt_file else ""
        return line


@dataclass(frozen=True)
class Talk:
    """How a run talks to the person: lines, the question before money moves, progress."""

    echo: Echo = quiet
    confirm: Confirm | None = None
    progress: Progress = no_progress


def _run(
    command: str,
    path: Path,
    account: Any,
    make_plan: Callable[[Any, Payouts], Plan],
    by_sig: bool,
    options: RunOptions,
    talk: Talk,
) -> Plan:
    """What attest and relay share: settle an interrupted run, plan from the chain, describe,
    then a dry run or, once confirmed, the batches; a lost node names the resuming command."""
    from ape import chain

    o, echo = options, talk.echo
    resume = o.resume(command, path, account)

    @guard_node(resume)
    def run() -> Plan:
        program = connect(o.escrow, o.program_name, salt_file=o.salt_file)
        client = program.payouts
        journal = Journal.for_run(
            chain.chain_id, program.escrow.address, account.address, program.deployment.salt_id
        )
        if settled := client.settle(journal):
            echo(f"settled {settled} transaction(s) left by an interrupted run")
        if journal.torn:
            lines = ", ".join(map(str, journal.torn))
            echo(f"{journal.path}: line(s) {lines} torn by an interrupted write, ignored")
        plan = make_plan(program, client)
        _describe(plan, program.decimals, o.batch_size, echo)
        if o.dry_run:
            _dry_run(client, plan, account, o.batch_size, by_sig, echo)
        elif plan.to_send:
            question = (
                f"Release {format_tokens(plan.total, program.decimals)} tokens of scholarships?"
            )
            ask(question, o.yes, talk.confirm)
            bar = talk.progress(len(plan.to_send), "attesting")
            with signing(account, o.verbose), bar as advance:
                hashes = client.send(
                    plan, account, journal, o.batch_size, by_sig, program.legacy_gas, advance, echo
                )
            paid = len(plan.to_send) - len(plan.skipped_on_chain)
            echo(f"paid {paid} in {len(hashes)} transaction(s)")
            if plan.skipped_on_chain:
                rows = ", ".join(str(row) for row in sorted(plan.skipped_on_chain))
                echo(
                    f"{len(plan.skipped_on_chain)} skipped by the escrow, paid meanwhile by "
                    f"another transaction: row(s) {rows}"
                )
        _report_claim_jumps(plan, echo)
        return plan

    return run()


def attest(
    path: Path,
    account: Any,
    *,
    batch_size: int,
    dry_run: bool,
    yes: bool,
    echo: Echo = quiet,
    confirm: Confirm | None = None,
    progress: Progress = no_progress,
    pattern: str | None = None,
    delimiter: str | None = None,
    program_name: str = "main",
    escrow: str | None = None,
    salt_file: Path | None = None,
    verbose: bool = False,
    claim_page: str | None = None,
    links_out: Path | None = None,
) -> Plan:
    """Validates ROSTER against the chain and pays it in batches as the registrar `account`.
    A roster with no payee column is reserved for claim links instead (links.py)."""
    if is_link_roster(path, delimiter):
        _reserve_links(
            path, account, claim_page, links_out, dry_run, yes, echo, confirm,
            pattern, delimiter, program_name, escrow, salt_file,
        )  # fmt: skip
        return Plan()

    def make_plan(program: Any, client: Payouts) -> Plan:
        parsed = _parse(path, program, pattern, delimiter, program_name, echo)
        return client.plan(str(path), parsed.rows, account.address, errors=parsed.errors)

    options = RunOptions(batch_size, dry_run, yes, program_name, escrow, salt_file, verbose)
    return _run("attest", path, account, make_plan, False, options, Talk(echo, confirm, progress))


def _reserve_links(
    path: Path,
    account: Any,
    claim_page: str | None,
    links_out: Path | None,
    dry_run: bool,
    yes: bool,
    echo: Echo,
    confirm: Confirm | None,
    pattern: str | None,
    delimiter: str | None,
    program_name: str,
    escrow: str | None,
    salt_file: Path | None,
) -> None:
    from itgen_chain import links
    from itgen_chain.config import settings

    base = claim_page or settings().claim_page
    if not base:
        raise ItgenError(
            f"{path} has no payee column, so its students get claim links: give the charity's "
            "claim page with --claim-page URL (or claim_page in the itgen: config)"
        )
    program = connect(escrow, program_name, salt_file=salt_file)
    parsed = _parse(path, program, pattern, delimiter, program_name, echo)
    out = links_out or Path("claims") / path.stem
    with signing(account, False):
        links.reserve(
            program, parsed, path, account, base=base, out=out, relayer=settings().relayer_url,
            dry_run=dry_run, yes=yes, echo=echo, confirm=confirm,
        )  # fmt: skip


def cancel_links(
    path: Path,
    account: Any,
    rows: set[int],
    *,
    yes: bool,
    program_name: str = "main",
    escrow: str | None = None,
    salt_file: Path | None = None,
    echo: Echo = quiet,
    confirm: Confirm | None = None,
    progress: Progress = no_progress,
) -> int:
    """Cancels the open reservations of a link roster's `rows` (as their registrar or the
    admin); returns how many. Every row that is not an open reservation is named at once."""
    program = connect(escrow, program_name, salt_file=salt_file)
    parsed = _parse(path, program, None, None, program_name, echo)
    found = {row.row: row.attestation for row in parsed.rows if row.row in rows}
    errors = [
        RowError(n, "row", "not a valid row of the roster") for n in sorted(rows - set(found))
    ]
    keys = []
    for number, att in sorted(found.items()):
        if int(program.escrow.reservation(att.student_id, int(att.milestone)).claimKey, 16) == 0:
            errors.append(
                RowError(number, "row", "no open reservation (claimed, cancelled or paid)")
            )
        keys.append((att.student_id, int(att.milestone)))
    if errors:
        raise RosterError(str(path), errors)
    ask(f"Cancel {len(keys)} claim link(s)?", yes, confirm)
    with signing(account, False):
        program.send("cancelling", program.escrow.cancelReservations, keys, sender=account)
    echo(f"cancelled {len(keys)} reservation(s); run attest on {path} again for new links")
    return len(keys)


def sign(
    path: Path,
    account: Any,
    out: Path,
    *,
    valid_days: int,
    yes: bool = False,
    echo: Echo = quiet,
    confirm: Confirm | None = None,
    progress: Progress = no_progress,
    pattern: str | None = None,
    delimiter: str | None = None,
    program_name: str = "main",
    escrow: str | None = None,
    salt_file: Path | None = None,
) -> int:
    """Signs every unpaid row of ROSTER (EIP-712) with the registrar's key into a file to hand
    over; rows already paid are left out and counted."""
    from ape import chain

    program = connect(escrow, program_name, salt_file=salt_file)
    parsed = _parse(path, program, pattern, delimiter, program_name, echo)
    rows, errors = parsed.rows, parsed.errors
    client = program.payouts
    # The checks a relayer will make; rows already paid are not signed.
    plan = client.plan(str(path), rows, account.address, errors=errors)
    if plan.skipped:
        echo(f"{len(plan.skipped)} row(s) already paid, not signed")
    unpaid = {item.row for item in plan.to_send}
    rows = [row for row in rows if row.row in unpaid]
    if not rows:
        for jump in plan.claim_jumps:
            echo(jump.line())
        if plan.claim_jumps:
            raise ClaimJumped(plan.claim_jumps)
        raise ItgenError(
            f"{path}: nothing to sign ("
            + ("every row is already paid" if plan.skipped else "the roster has no rows")
            + "); no file written"
        )
    epoch = program.escrow.registrar(account.address).epoch
    # From the latest block's time, not the pending one: the escrow counts its 30-day cap
    # from the block that pays, which is never earlier than this one.
    deadline = chain.provider.get_block("latest").timestamp + valid_days * 86_400
    if hasattr(account, "set_autosign"):  # a keystore account: one passphrase, not one per row
        ask(f"Sign {len(rows)} attestation(s) with {account.alias}?", yes, confirm)
    from ape.logging import LogLevel, logger

    def signed(advance: Callable[[int], None]) -> Iterator[tuple[int, SignedAttestation]]:
        for row in rows:
            message = signable(row.attestation, epoch, deadline, chain.chain_id, escrow_address)
            signature = account.sign_message(message).encode_rsv()
            yield row.row, SignedAttestation(row.attestation, epoch, deadline, signature)
            advance(1)

    # An unlocked keystore account warns "Using cached key" on every signature: the one
    # confirmation above is the user's; the row-by-row warnings are noise.
    escrow_address = program.escrow.address
    quiet_log = logger.at_level(LogLevel.ERROR)
    with signing(account), quiet_log, progress(len(rows), "signing") as advance:
        count = signed_file.write(
            out, signed(advance), account.address, chain.chain_id, escrow_address
        )
    echo(f"signed {count} attestation(s) valid until {deadline}; wrote {out}")
    _report_claim_jumps(plan, echo)
    return count


def relay(
    path: Path,
    account: Any,
    *,
    batch_size: int,
    dry_run: bool,
    yes: bool,
    echo: Echo = quiet,
    confirm: Confirm | None = None,
    progress: Progress = no_progress,
    program_name: str = "main",
    escrow: str | None = None,
    salt_file: Path | None = None,
    verbose: bool = False,
) -> Plan:
    """Submits a signed file from any funded account, after checking every signature."""

    def make_plan(program: Any, client: Payouts) -> Plan:
        from ape import chain

        from itgen_chain.roster import RosterRow

        entries, errors = signed_file.read(path, chain.chain_id, program.escrow.address)
        now = chain.provider.get_block("latest").timestamp
        signers, standings = {}, {}
        for row, item, signer in entries:
            if signer not in standings:
                standings[signer] = program.escrow.registrar(signer)
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
                        f"signed in epoch {item.epoch} of registrar {signer}, whose term ended "
                        f"since (now in epoch {standing.epoch}): ask it to sign again",
                    )
                )
            elif now > item.deadline:
                errors.append(RowError(row, "signature", f"expired at {item.deadline}"))
            elif item.deadline > now + MAX_SIGNATURE_VALIDITY:
                errors.append(
                    RowError(
                        row,
                        "signature",
                        f"valid until {item.deadline}, more than 30 days from now: the escrow "
                        "refuses it; ask the registrar to sign with --valid-days 30 or less",
                    )
                )
            signers[row] = signer
        if errors:
            raise RosterError(str(path), sorted(errors, key=lambda e: e.row))
        rows = [RosterRow(row, item.attestation) for row, item, _ in entries]
        signed = {row: item for row, item, _ in entries}
        return client.plan(str(path), rows, signers.__getitem__, signed)

    options = RunOptions(batch_size, dry_run, yes, program_name, escrow, salt_file, verbose)
    return _run("relay", path, account, make_plan, True, options, Talk(echo, confirm, progress))
