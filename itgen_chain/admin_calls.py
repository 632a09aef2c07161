"""What a Safe transaction does, in words, and what an admin batch may hold.

Every call is decoded from its calldata against the ABIs the package ships (the escrow,
ERC-20, the Safe), never from a file's description: the target by name, the method, each
argument in words (token amounts with the token's decimals, dates, role names, courses).
An admin batch goes to this program's escrow only (and to targets named with
--allow-target), never to the Safe itself, with no value, no delegate call other than the
MultiSendCallOnly wrapper, and no selector the ABIs do not know: anything else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from itgen_chain.amounts import format_time, format_tokens
from itgen_chain.exceptions import CallRefused
from itgen_chain.safe import CALL, DELEGATECALL, MULTISEND_CALL_ONLY, Call, Safe, SafeTx, abi

ROLES = {
    bytes(32): "DEFAULT_ADMIN_ROLE (the admin)",
    keccak(text="PAUSER_ROLE"): "PAUSER_ROLE (the guardian, who may pause)",
}
AMOUNTS = {"amount", "allowance", "registrationAmount", "completionAmount", "value"}
TIMES = {"expiry", "newEnd", "deadline"}


@dataclass(frozen=True)
class Context:
    """Who is who for the decoder: this program's escrow and token, the Safe, the targets
    allowed besides the escrow, and names for other known addresses."""

    escrow: str
    token: str
    symbol: str
    decimals: int
    safe: str
    allowed: frozenset[str] = frozenset()
    names: dict[str, str] = field(default_factory=dict)

    def name(self, address: str) -> str:
        """``this program's escrow 0x…``, ``the Safe itself 0x…``, ``unknown contract 0x…``."""
        address = to_checksum_address(address)
        known = {
            self.escrow: "this program's escrow",
            self.token: f"the scholarship token {self.symbol}",
            self.safe: "the Safe itself",
            MULTISEND_CALL_ONLY: "Safe's MultiSendCallOnly",
            **self.names,
        }
        return f"{known.get(address, 'unknown contract')} {address}"

    def label(self, address: str) -> str:
        """An address argument, with its name where it has one."""
        address = to_checksum_address(address)
        if int(address, 16) == 0:
            return f"{address} (the zero address)"
        known = {
            self.escrow: "this program's escrow",
            self.token: "the token",
            self.safe: "the Safe",
        }
        name = known.get(address) or self.names.get(address)
        return f"{address} ({name})" if name else address


@dataclass(frozen=True)
class Decoded:
    """One call in words, and why it is refused (None when it may go)."""

    number: int
    call: Call
    target: str
    method: str | None
    arguments: list[tuple[str, str]]
    refusal: str | None

    def lines(self) -> list[str]:
        head = f"call {self.number}: {self.target}"
        head += f" . {self.method}" if self.method else " . (no known method)"
        lines = [head]
        lines += [f"    {name}: {value}" for name, value in self.arguments]
        lines.append(
            f"    value: {self.call.value} wei, operation: {_operation(self.call.operation)}"
        )
        if self.refusal:
            lines.append(f"    REFUSED: {self.refusal}")
        return lines


def _operation(operation: int) -> str:
    return {CALL: "call", DELEGATECALL: "delegatecall"}.get(operation, f"unknown ({operation})")


@cache
def _functions(name: str) -> dict[bytes, dict[str, Any]]:
    return _table(_abi_of(name))


def _abi_of(name: str) -> list[dict[str, Any]]:
    if name == "escrow":
        from itgen_chain import compiled

        return compiled.escrow_artifact()["abi"]
    if name == "erc20":
        from itgen_chain.compiled import ERC20_ABI

        return ERC20_ABI
    return abi(name)


def _type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


def _table(entries: list[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    table = {}
    for entry in entries:
        if entry.get("type") == "function":
            signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
            table[keccak(text=signature)[:4]] = entry
    return table


def decode(number: int, call: Call, context: Context) -> Decoded:
    """Call `number` in words, with the policy's verdict."""
    to = to_checksum_address(call.to)
    abi_name = {context.escrow: "escrow", context.token: "erc20", context.safe: "Safe"}.get(to)
    selector = call.data[:4]
    entry = _functions(abi_name).get(selector) if abi_name else None
    if entry is None and abi_name is None:  # an unknown target: say what it looks like
        for guess in ("escrow", "erc20", "Safe"):
            entry = _functions(guess).get(selector)
            if entry:
                break
    method, arguments = None, []
    if entry is not None:
        method = entry["name"]
        try:
            values = abi_decode([_type(i) for i in entry["inputs"]], call.data[4:])
            arguments = [
                (i["name"] or f"argument {n}", _words(i, value, method, to, context))
                for n, (i, value) in enumerate(zip(entry["inputs"], values, strict=True), 1)
            ]
        except Exception:  # eth_abi's decoding errors: calldata that does not fit the method
            arguments = [
                ("calldata", "0x" + call.data.hex() + " (does not decode as " + method + ")")
            ]
            method = None
    elif call.data:
        arguments = [("calldata", "0x" + call.data.hex())]
    return Decoded(
        number,
        call,
        context.name(to),
        method,
        arguments,
        _refusal(call, to, entry, method, context),
    )


def _refusal(
    call: Call, to: str, entry: dict[str, Any] | None, method: str | None, context: Context
) -> str | None:
    if to == context.safe:
        return (
            f"it calls the Safe itself ({method or 'unknown method'}): an admin batch never "
            "changes the Safe's owners, threshold, modules or guard"
        )
    if call.operation != CALL:
        return "it is a delegate call: only the MultiSendCallOnly wrapper may be one"
    if call.value:
        return f"it sends {call.value} wei: an admin batch sends no BNB"
    if to != context.escrow and to not in context.allowed:
        return (
            f"it goes to {context.name(to)}, not this program's escrow {context.escrow} "
            f"(pass --allow-target {to} if that is meant)"
        )
    if entry is None or method is None:
        return f"the function 0x{call.data[:4].hex()} is unknown to the ABIs of the escrow, ERC-20 and the Safe"
    return None


def _words(param: dict[str, Any], value: Any, method: str, to: str, context: Context) -> str:
    name, kind = param["name"], param["type"]
    if kind == "address":
        return context.label(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "bytes32" and name == "role":
        return ROLES.get(bytes(value), "unknown role 0x" + bytes(value).hex())
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if not isinstance(value, int):
        return str(value)
    if name == "courseId":
        return f"course {value}"
    if name in TIMES and 0 < value < 2**40:
        return f"{format_time(value)} (unix {value})"
    if name == "newDelay":
        return f"{value} s ({value / 3600:g} h)"
    if name in AMOUNTS and method != "rescueToken" and to in (context.escrow, context.token):
        return f"{format_tokens(value, context.decimals)} {context.symbol} ({value} base units)"
    return str(value)


def decode_transaction(safe_tx: SafeTx, context: Context) -> list[Decoded]:
    """Every call the Safe will make, in words; a delegate call to anything but
    MultiSendCallOnly is refused whole."""
    if safe_tx.operation == DELEGATECALL and safe_tx.to != MULTISEND_CALL_ONLY:
        call = Call(safe_tx.to, safe_tx.value, safe_tx.data, safe_tx.operation)
        decoded = decode(1, call, context)
        return [
            Decoded(
                1, call, decoded.target, decoded.method, decoded.arguments,
                f"the Safe would delegate-call {safe_tx.to}, which runs its code as the Safe: "
                "only MultiSendCallOnly may be delegate-called",
            )
        ]  # fmt: skip
    return [decode(number, call, context) for number, call in enumerate(safe_tx.calls(), 1)]


def show(safe_tx: SafeTx, decoded: list[Decoded], safe: Safe, said: str | None = None) -> list[str]:
    """The lines an owner reads before signing: the Safe, each call decoded, the Safe
    transaction hash and nonce; what a file says of itself, marked as such."""
    how = (
        f"one delegate call to MultiSendCallOnly with {len(decoded)} calls"
        if safe_tx.operation == DELEGATECALL and safe_tx.to == MULTISEND_CALL_ONLY
        else "one call"
    )
    lines = [f"{safe.describe()} on chain {safe_tx.chain_id}, nonce {safe_tx.nonce}: {how}"]
    if said:
        lines.append(f"the file says: {said!r} (not checked: the calls below are what runs)")
    for item in decoded:
        lines += item.lines()
    lines.append(f"Safe transaction hash: {safe_tx.hash_hex} (nonce {safe_tx.nonce})")
    return lines


def refuse(decoded: list[Decoded]) -> None:
    """Raises CallRefused naming every refused call."""
    refused = [item for item in decoded if item.refusal]
    if refused:
        raise CallRefused([(item.number, item.refusal or "") for item in refused])
