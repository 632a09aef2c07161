"""How an admin change is signed and sent, one route a way, behind one `carry_out`:

- an account sends it directly (the admin, the guardian or the donor is a key);
- a Safe executes it now, when the owners signing here meet the threshold;
- a Safe transaction file that owners sign on their own machines (`safe_file`);
- a Transaction Builder file for owners who use Safe{Wallet} (`tx_builder`);
- Safe's hosted transaction service, only when asked for.

Every Safe route first shows each call decoded and the Safe transaction hash, refuses what an
admin batch never needs, and simulates the exact Safe transaction, before any question.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itgen_chain import admin_calls, safe_file, tx_builder
from itgen_chain import safe as safes
from itgen_chain.console import Confirm, Echo, ask, quiet
from itgen_chain.exceptions import ItgenError, NothingSent, SafeError
from itgen_chain.program import Change, Program


@dataclass
class Sending:
    """How the person running the command wants a change sent."""

    account: Any = None
    """The account that signs or sends (for a Safe: an owner, or anyone to execute)."""
    safe: str | None = None
    """The admin Safe (address or `ape safe add` alias); None sends from `account`."""
    cosigners: list[Any] = field(default_factory=list)
    """Other owners who sign now, on this machine."""
    safe_tx_file: Path | None = None
    """Write a Safe transaction file here for owners to sign on their own machines."""
    tx_builder: Path | None = None
    """Write (or with `append`, extend) a Transaction Builder file here."""
    append: bool = False
    service: bool = False
    """Propose through Safe's hosted transaction service (ape-safe)."""
    allow_targets: frozenset[str] = frozenset()
    dry_run: bool = False
    yes: bool = False


@dataclass
class Prepared:
    """A Safe transaction shown, checked and simulated: ready for signatures."""

    safe: safes.Safe
    safe_tx: safes.SafeTx
    decoded: list[admin_calls.Decoded]
    gas: int


def carry_out(
    program: Program,
    changes: list[Change],
    sending: Sending,
    echo: Echo = quiet,
    confirm: Confirm | None = None,
    *,
    ask_first: bool = True,
) -> None:
    """Sends `changes` the way `sending` says; every refusal comes before any question."""
    if sending.safe is None:
        _direct(program, changes, sending, echo, confirm, ask_first)
        return
    calls = [safes.Call(c.to, 0, c.data) for c in changes]
    said = "; ".join(change.what for change in changes)
    if sending.tx_builder is not None:
        _write_tx_builder(program, changes, sending, echo)
        return
    carry_out_calls(program, calls, sending, echo, confirm, said=said)


def carry_out_calls(
    program: Program,
    calls: list[safes.Call],
    sending: Sending,
    echo: Echo = quiet,
    confirm: Confirm | None = None,
    *,
    said: str | None = None,
    file_says: bool = False,
) -> None:
    """The Safe routes for calls (from a command, or from a file whose words are `said`)."""
    if sending.safe is None:
        raise SafeError("a Safe transaction needs --safe")
    prepared = prepare(program, calls, sending, echo, said=said, file_says=file_says)
    if sending.dry_run:
        echo(
            f"dry run: the Safe transaction would use about {prepared.gas:,} gas inside the Safe; nothing was signed or sent"
        )
        return
    if sending.safe_tx_file is not None:
        _write_safe_tx_file(program, prepared, sending, said or "", echo, confirm)
    elif sending.service:
        _propose(prepared, sending, echo, confirm)
    else:
        _execute_now(program, prepared, sending, echo, confirm)


def context(
    program: Program, safe_address: str, allowed: frozenset[str] = frozenset()
) -> admin_calls.Context:
    """Who is who for the decoder, from the program."""
    from eth_utils import to_checksum_address

    try:
        symbol = program.token.symbol()
    except Exception:  # a token without the optional symbol(): ape's ContractLogicError
        symbol = "tokens"
    names: dict[str, str] = {to_checksum_address(program.escrow.donor()): "the donor"}
    return admin_calls.Context(
        to_checksum_address(program.escrow.address),
        to_checksum_address(program.token.address),
        symbol,
        program.decimals,
        to_checksum_address(safe_address),
        frozenset(to_checksum_address(a) for a in allowed),
        names,
    )


def prepare(
    program: Program,
    calls: list[safes.Call],
    sending: Sending,
    echo: Echo,
    *,
    said: str | None = None,
    file_says: bool = False,
    nonce: int | None = None,
) -> Prepared:
    """Builds the Safe transaction at the Safe's next nonce, shows it decoded with its hash,
    refuses what an admin batch never needs, and simulates it whole."""
    from ape import chain

    web3 = chain.provider.web3
    safe = safes.read(web3, safes.resolve(sending.safe or ""))
    safe_tx = safes.transaction_for(
        safe.address, safe.chain_id, safe.nonce if nonce is None else nonce, calls
    )
    return check(
        program,
        safe,
        safe_tx,
        sending.allow_targets,
        echo,
        said=said if file_says else None,
        what=None if file_says else said,
    )


def check(
    program: Program,
    safe: safes.Safe,
    safe_tx: safes.SafeTx,
    allowed: frozenset[str],
    echo: Echo,
    *,
    said: str | None = None,
    what: str | None = None,
) -> Prepared:
    """Shows `safe_tx` decoded, refuses what the policy refuses, simulates it whole."""
    from ape import chain

    decoder = context(program, safe.address, allowed)
    decoded = admin_calls.decode_transaction(safe_tx, decoder)
    if what:
        echo(f"to do: {what}")
    for line in admin_calls.show(safe_tx, decoded, safe, said):
        echo(line)
    admin_calls.refuse(decoded)
    names = {item.number: item for item in decoded}

    def describe(number: int, call: safes.Call) -> str:
        item = names.get(number)
        return f"{item.method or 'a call'} on {item.target}" if item else f"a call to {call.to}"

    simulation = safes.check(chain.provider.web3, safe_tx, program.explain_data, describe)
    return Prepared(safe, safe_tx, decoded, simulation.gas)


# ---------------------------------------------------------------- the routes


def _direct(
    program: Program,
    changes: list[Change],
    sending: Sending,
    echo: Echo,
    confirm: Confirm | None,
    ask_first: bool,
) -> None:
    account = _needs_account(sending, "send the change")
    if sending.cosigners:
        raise SafeError("--cosigner signs for a Safe: add --safe")
    if sending.safe_tx_file or sending.service:
        raise SafeError("--safe-tx and --service go through a Safe: add --safe")
    for change in changes:
        echo(f"- {change.what}")
    gas = 0
    for change in changes:  # every refusal before the question
        program.check(change.what, change.method, *change.args, sender=account)
        gas += change.method.estimate_gas_cost(*change.args, sender=account)
    if sending.dry_run:
        echo(f"dry run: about {gas:,} gas in {len(changes)} transaction(s); nothing was sent")
        return
    if ask_first:
        ask("Send?", sending.yes, confirm)
    with signing(account):
        for receipt in program.apply(changes, account):
            echo(f"sent {receipt.txn_hash}")


def _write_tx_builder(
    program: Program, changes: list[Change], sending: Sending, echo: Echo
) -> None:
    from ape import chain

    path = sending.tx_builder
    assert path is not None
    safe_address = safes.resolve(sending.safe or "")
    before: list[safes.Call] = []
    batch = None
    if sending.append and path.exists():
        batch, before = tx_builder.read(path, chain.chain_id)
        made_for = str(batch["meta"].get("createdFromSafeAddress") or "")
        if made_for.lower() != safe_address.lower():
            raise SafeError(
                f"{path} was made for the Safe {made_for or '(none)'}, not {safe_address}"
            )
    elif path.exists():
        raise SafeError(
            f"{path} exists already: add to it with --append, or choose another name; nothing was written"
        )
    calls = before + [safes.Call(c.to, 0, c.data) for c in changes]
    said = "; ".join(change.what for change in changes)
    prepared = prepare(program, calls, sending, echo, said=said)
    if sending.dry_run:
        echo("dry run: nothing was written")
        return
    if batch is not None:
        written = tx_builder.write(path, tx_builder.appended(batch, changes), new=False)
    else:
        name = f"itgen {program.deployment.escrow[:10]}: {changes[0].what}"
        written = tx_builder.write(
            path, tx_builder.batch_file(changes, chain.chain_id, safe_address, name)
        )
    echo(
        f"wrote {written} for the Transaction Builder: {len(calls)} call(s), Safe transaction "
        f"hash {prepared.safe_tx.hash_hex} at nonce {prepared.safe_tx.nonce} (the app shows the same when nothing else is queued)"
    )


def _write_safe_tx_file(
    program: Program,
    prepared: Prepared,
    sending: Sending,
    said: str,
    echo: Echo,
    confirm: Confirm | None,
) -> None:
    path = sending.safe_tx_file
    assert path is not None
    if path.exists():
        raise SafeError(
            f"{path} exists already: choose another name, or sign that one; nothing was written"
        )
    document = safe_file.SafeTxFile(prepared.safe_tx, program.escrow.address, said)
    signers = [
        a
        for a in [sending.account, *sending.cosigners]
        if a is not None and prepared.safe.is_owner(a.address)
    ]
    question = (
        f"Write {path}"
        + (f" signed by {', '.join(a.address for a in signers)}" if signers else "")
        + "?"
    )
    ask(question, sending.yes, confirm)
    for signer in signers:
        with signing(signer):
            document.signatures[signer.address] = safes.sign(signer, prepared.safe_tx)
    safe_file.write(path, document, new=True)
    echo(
        f"wrote {path}: {len(document.signatures)} of {prepared.safe.threshold} signatures; each "
        f"other owner runs `ape itgen safe sign {path.name}` (or approves the hash on chain), then "
        f"anyone runs `ape itgen safe execute {path.name}`"
    )


def _execute_now(
    program: Program, prepared: Prepared, sending: Sending, echo: Echo, confirm: Confirm | None
) -> None:
    from ape import chain

    account = _needs_account(sending, "sign for the Safe")
    safe = prepared.safe
    for cosigner in sending.cosigners:
        if not safe.is_owner(cosigner.address):
            raise SafeError(f"{cosigner.address} is not an owner of the Safe {safe.address}")
    signers = [a for a in [account, *sending.cosigners] if safe.is_owner(a.address)]
    approved = safes.approvals(chain.provider.web3, safe, prepared.safe_tx)
    count = len({a.address for a in signers} | set(approved))
    if count < safe.threshold:
        raise SafeError(
            f"{count} of {safe.threshold} signatures here: write a Safe transaction file with "
            "--safe-tx FILE for the other owners to sign, or pass more --cosigner; nothing was signed"
        )
    ask(f"Sign and execute the Safe transaction {prepared.safe_tx.hash_hex}?", sending.yes, confirm)
    signatures = {}
    for signer in signers:
        with signing(signer):
            signatures[signer.address] = safes.sign(signer, prepared.safe_tx)
    execute(program, safe, prepared.safe_tx, signatures, approved, account, echo)


def execute(
    program: Program,
    safe: safes.Safe,
    safe_tx: safes.SafeTx,
    signatures: dict[str, bytes],
    approved: list[str],
    sender: Any,
    echo: Echo,
) -> Any:
    """Sends execTransaction from `sender` with the owners' signatures and approvals, checked
    with eth_call first; returns the receipt."""

    if safe_tx.nonce != safe.nonce:
        raise SafeError(
            f"the Safe's nonce is {safe.nonce}, the transaction's {safe_tx.nonce}: "
            + (
                "it was executed already, or another Safe transaction took its nonce"
                if safe_tx.nonce < safe.nonce
                else "earlier Safe transactions must run first"
            )
        )
    valid = {owner: sig for owner, sig in signatures.items() if safe.is_owner(owner)}
    if (missing := safe.threshold - len(set(valid) | set(approved))) > 0:
        raise SafeError(
            f"{len(set(valid) | set(approved))} of {safe.threshold} signatures: {missing} more needed"
        )
    chosen = sorted(set(valid) | set(approved), key=lambda a: int(a, 16))[: safe.threshold]
    packed = safes.encode_signatures(
        {o: valid[o] for o in chosen if o in valid}, [o for o in chosen if o not in valid]
    )
    contract = safes.ape_contract(safe.address)
    arguments = (
        safe_tx.to, safe_tx.value, safe_tx.data, safe_tx.operation, safe_tx.safe_tx_gas,
        safe_tx.base_gas, safe_tx.gas_price, safe_tx.gas_token, safe_tx.refund_receiver, packed,
    )  # fmt: skip
    try:
        contract.execTransaction.call(*arguments, sender=sender)
    except Exception as error:  # ape's ContractLogicError: GSxxx or a call's revert
        text = str(error)
        raise SafeError(
            f"the Safe would refuse to execute: {safes.safe_error(text) or program.explain(error)}; "
            "nothing was sent"
        ) from None
    with signing(sender):
        receipt = contract.execTransaction(*arguments, sender=sender)
    names = [log.event_name for log in receipt.events]
    if receipt.failed or "ExecutionFailure" in names:
        raise SafeError(f"the Safe transaction {safe_tx.hash_hex} failed in {receipt.txn_hash}")
    echo(
        f"executed Safe transaction {safe_tx.hash_hex} (nonce {safe_tx.nonce}, "
        f"{len(chosen)} of {safe.threshold} signatures) in {receipt.txn_hash}"
    )
    return receipt


def _propose(prepared: Prepared, sending: Sending, echo: Echo, confirm: Confirm | None) -> None:
    """Safe's hosted transaction service through ape-safe, only when asked for."""
    from ape import chain

    account = _needs_account(sending, "sign the proposal")
    safe = prepared.safe
    if chain.chain_id == 56 and not os.environ.get("APE_SAFE_GATEWAY_API_KEY"):
        raise SafeError(
            "Safe's transaction service on BNB Chain needs APE_SAFE_GATEWAY_API_KEY (a key from "
            "Safe's developer portal); without a service, use --safe-tx FILE"
        )
    signers = [a for a in [account, *sending.cosigners] if safe.is_owner(a.address)]
    ask(
        f"Sign and propose the Safe transaction {prepared.safe_tx.hash_hex} to Safe's service?",
        sending.yes,
        confirm,
    )
    signatures = {}
    for signer in signers:
        with signing(signer):
            signatures[signer.address] = safes.sign(signer, prepared.safe_tx)
    try:
        from ape.types import MessageSignature
        from eth_pydantic_types import HexBytes  # noqa: F401  (ape-safe's dependency)

        service_account = _ape_safe_account(safe.address)
        tx = service_account.create_safe_tx(
            to=prepared.safe_tx.to, value=prepared.safe_tx.value, data=prepared.safe_tx.data,
            operation=prepared.safe_tx.operation, nonce=prepared.safe_tx.nonce,
        )  # fmt: skip
        sigs = {owner: MessageSignature.from_rsv(sig) for owner, sig in signatures.items()}
        service_account.propose_safe_tx(
            tx, sigs_by_signer=sigs, contractTransactionHash=prepared.safe_tx.hash_hex
        )
    except ItgenError:
        raise
    except Exception as error:  # the service, or ape-safe's client lookup (no chain 97)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise SafeError(
            f"Safe's transaction service did not take the proposal ({first}); without a "
            "service, use --safe-tx FILE"
        ) from None
    echo(
        f"proposed Safe transaction {prepared.safe_tx.hash_hex} with {len(signatures)} of {safe.threshold} signatures"
    )


def _ape_safe_account(address: str) -> Any:
    """ape-safe's account for `address`, with the canonical contracts (never looked up)."""
    from ape import chain
    from ape_safe.accounts import SafeAccount
    from ape_safe.packages import PackageType
    from ape_safe.types import SafeCacheData
    from packaging.version import Version

    from itgen_chain.config import settings

    folder = settings().work_folder / "safes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{address}.json"
    path.write_text(
        SafeCacheData(address=address, deployed_chain_ids=[chain.chain_id]).model_dump_json()
    )
    account = SafeAccount(account_file_path=path)
    version = Version(safes.VERSION)
    SafeAccount._factory._singleton[version] = PackageType.SINGLETON(version).at(safes.SAFE_L2)
    SafeAccount._factory._factory[version] = PackageType.PROXY_FACTORY(version).at(
        safes.PROXY_FACTORY
    )
    from ethpm_types import ContractType

    chain.contracts.cache_contract_type(
        safes.FALLBACK_HANDLER,
        ContractType(
            contractName="CompatibilityFallbackHandler",
            abi=safes.abi("CompatibilityFallbackHandler"),
        ),
    )
    return account


def _needs_account(sending: Sending, to_do: str) -> Any:
    if sending.account is None:
        raise SafeError(f"--account is needed to {to_do}")
    return sending.account


@contextmanager
def signing(account: Any, verbose: bool = False) -> Iterator[None]:
    """A keystore account signs without asking again once the person has said yes (the
    passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE, or asked once at a terminal); without
    a terminal and without the variable, one line says what to set. `verbose` keeps ape's
    own way: each transaction shown in full and confirmed."""
    if verbose or not hasattr(account, "set_autosign"):
        yield
        return
    from ape.exceptions import AccountsError
    from ape.logging import LogLevel, logger

    variable = f"APE_ACCOUNTS_{account.alias}_PASSPHRASE"
    passphrase = os.environ.get(variable)
    if passphrase is None and not sys.stdin.isatty():
        raise NothingSent(
            f"the keystore account {account.alias} needs its passphrase and there is no "
            f"terminal to ask at: set {variable} for an unattended run"
        )
    try:
        with logger.at_level(LogLevel.ERROR):  # not ape's "Danger!" warning: the person said yes
            account.set_autosign(True, passphrase=passphrase)
    except AccountsError as error:
        raise NothingSent(f"{account.alias}: {error}") from None
    except Exception as error:  # eth-keyfile's wrong passphrase
        if "password" in str(error).lower() or "mac mismatch" in str(error).lower():
            source = variable if passphrase else "the prompt"
            raise NothingSent(f"{account.alias}: wrong passphrase (from {source})") from None
        raise
    try:
        yield
    finally:
        account.set_autosign(False)
