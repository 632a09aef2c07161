"""The escrow's custom errors in words, for the one-line ``Error: ...`` a user reads.

A revert reaches the tool either decoded by ape (a ``CustomError`` with its ABI and inputs)
or as raw revert data (``0xef34f7ba...``); both become the same sentence. Times read as
dates, amounts in tokens when the token's decimals are known.
"""

from __future__ import annotations

import re
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import is_address, keccak, to_checksum_address

from itgen_chain.amounts import format_time, format_tokens

TIMES = {"programEnd", "expiry", "deadline", "current", "latest", "schedule"}
AMOUNTS = {"requested", "remaining", "balance", "amount", "allowance", "needed"}

WORDS = {
    "EscrowPaused": "the program is paused: nothing is released until the admin resumes it",
    "EscrowNotPaused": "the program is not paused",
    "EscrowProgramEnded": "the program ended at {programEnd}: nothing more is released",
    "EscrowProgramNotEnded": "the program runs until {programEnd}: close it after that",
    "EscrowProgramEndNotLater": "the program end can only move later than {current}",
    "EscrowProgramEndPastLatest": "{requested} is past the latest program end {latest} "
    "agreed with the donor at deployment",
    "EscrowNotRegistrar": "{account} is not an active registrar",
    "EscrowRegistrarExpired": "registrar {registrar} expired at {expiry}",
    "EscrowRegistrarAllowanceExceeded": "item {index}: registrar {registrar} has {remaining} "
    "tokens of allowance left, the item needs {requested}",
    "EscrowCourseInactive": "item {index}: course {courseId} is unknown or inactive",
    "EscrowNothingToRelease": "item {index}: course {courseId} pays nothing for this milestone",
    "EscrowAlreadyPaid": "item {index}: the student was already paid for this milestone",
    "EscrowInvalidPayee": "item {index}: {payee} cannot be a payee",
    "EscrowInvalidStudent": "item {index}: the studentId is zero",
    "EscrowSignatureExpired": "item {index}: the signature expired at {deadline}",
    "EscrowInvalidSignature": "item {index}: the signature is malformed",
    "EscrowInvalidSigner": "item {index}: the signature recovers to {signer}, not a current "
    "registrar",
    "EscrowSignatureRevoked": "item {index}: signed in epoch {epoch} of registrar {signer}, "
    "whose term ended since",
    "EscrowEmptyBatch": "the batch is empty",
    "EscrowInsufficientFunds": "the escrow holds {balance} tokens, the batch needs {requested}",
    "EscrowNotAdminOrDonor": "{account} is neither the admin nor the donor",
    "EscrowCannotRescueScholarshipToken": "the scholarship token cannot be rescued",
    "EscrowAmountTooLarge": "{amount} does not fit the escrow's amounts (88 bits for an "
    "allowance, 96 for a course)",
    "EscrowZeroAddress": "an address is zero",
    "EscrowZeroAmount": "the amount is zero (nothing left in the escrow?)",
    "EscrowRegistrarOutlivesProgram": "expiry {expiry} is after the program end {programEnd}",
    "EscrowTooManyRegistrars": "at most {limit} registrars may be active at once",
    "EscrowRegistrarEpochsExhausted": "{registrar} was made a registrar too many times; "
    "use another address",
    "EscrowRegistrarRetired": "{registrar} was removed as a registrar and is retired for good",
    "EscrowCourseNotOfRegistrar": "item {index}: course {courseId} belongs to another provider "
    "than registrar {registrar}'s",
    "EscrowDeadlineTooFar": "item {index}: the signature is valid until {deadline}, past the "
    "latest the escrow accepts, {latest}",
    "EscrowInvalidClaimKey": "item {index}: no claim key",
    "EscrowNotReserved": "item {index}: nothing is reserved for this student and milestone "
    "(never, or claimed or cancelled already)",
    "EscrowInvalidClaimSignature": "item {index}: the claim is not signed by the student's "
    "claim key",
    "EscrowNotReservationOwner": "{account} neither made the reservation nor is the admin",
    "EscrowReservationsUnfunded": "the reservations would total {reserved} tokens, the escrow "
    "holds {balance}",
    "EscrowCourseIdTooLarge": "course id {courseId} is too large for a reservation (96 bits)",
    "AccessControlUnauthorizedAccount": "{account} does not hold the role this needs",
    "AccessControlEnforcedDefaultAdminDelay": "the admin handover waits until {schedule}",
    "AccessControlEnforcedDefaultAdminRules": "the admin role moves only in two steps",
    "AccessControlInvalidDefaultAdmin": "{defaultAdmin} is not the pending admin",
    "SafeERC20FailedOperation": "the token {token} refused the transfer",
    "ERC20InsufficientBalance": "{sender} holds {balance} tokens, {needed} are needed",
    "ERC20InsufficientAllowance": "the allowance is {allowance} tokens, {needed} are needed",
}


def _selectors(abi: list[dict]) -> dict[bytes, dict]:
    table = {}
    for entry in abi:
        if entry.get("type") == "error":
            types = ",".join(_type(i) for i in entry.get("inputs", []))
            table[keccak(f"{entry['name']}({types})".encode())[:4]] = entry
    return table


def _type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


def decode(error: BaseException, abi: list[dict]) -> tuple[str, dict[str, Any]] | None:
    """The custom error's name and inputs, from ape's decoding or from the revert data."""
    seen: BaseException | None = error
    while seen is not None:
        if hasattr(seen, "abi") and hasattr(seen, "inputs") and hasattr(seen.abi, "name"):
            return seen.abi.name, dict(seen.inputs)
        for text in (getattr(seen, "revert_message", None), str(seen), *map(str, seen.args)):
            # Raw revert data, whole ("0xe2517d3f0000...") or as nodes print it
            # ("custom error 0xe2517d3f: 0000...").
            pattern = r"0x([0-9a-fA-F]{8})(?::\s*)?((?:[0-9a-fA-F]{64})*)"
            for match in re.finditer(pattern, text or ""):
                entry = _selectors(abi).get(bytes.fromhex(match.group(1)))
                if entry is None:
                    continue  # an address or a hash, not revert data
                types = [_type(i) for i in entry.get("inputs", [])]
                try:
                    values = abi_decode(types, bytes.fromhex(match.group(2)))
                except Exception:  # eth_abi's decoding errors: not this error's data
                    continue
                names = [i["name"] for i in entry.get("inputs", [])]
                return entry["name"], dict(zip(names, values, strict=True))
        seen = seen.__cause__ or seen.__context__
    return None


def explain(error: BaseException, abi: list[dict], decimals: int | None = None) -> str | None:
    """The error in words, or None when it is not one of the contract's errors."""
    decoded = decode(error, abi)
    if decoded is None:
        return None
    name, inputs = decoded
    times = TIMES | ({"requested"} if name.startswith("EscrowProgramEnd") else set())
    shown = {}
    for key, value in inputs.items():
        if key in times and isinstance(value, int) and 0 < value < 2**40:
            shown[key] = format_time(value)
        elif key in AMOUNTS and isinstance(value, int) and decimals is not None:
            shown[key] = format_tokens(value, decimals)
        elif isinstance(value, bytes):
            shown[key] = "0x" + value.hex()
        elif isinstance(value, str) and is_address(value):
            shown[key] = to_checksum_address(value)
        else:
            shown[key] = str(value)
    template = WORDS.get(name)
    if template is None:
        details = ", ".join(f"{k}={v}" for k, v in shown.items())
        return f"{name}({details})"
    try:
        return template.format(**shown)
    except KeyError:
        return f"{name}: {template}"
