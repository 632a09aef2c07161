"""Safe 1.4.1 transactions with no hosted service: built, hashed, simulated whole, signed,
approved and executed against the Safe contract itself, on any chain.

A Safe transaction (SafeTx) is what owners sign: its EIP-712 hash (domain: chain id and the
Safe's address) is the "Safe transaction hash" Safe{Wallet} and safe-cli show. One call goes
as itself; several go as one delegate call to MultiSendCallOnly, in which each call sees the
state the previous ones left. Before anyone signs, the whole SafeTx runs in the Safe's own
context through SimulateTxAccessor (``simulateAndRevert``), as execution would run it.

The contracts sit at their canonical addresses, the same on BNB Chain 56 and 97 and on a
local chain set up by ``devtools/safe_contracts.py``; their ABIs ship in ``data/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_utils import is_address, keccak, to_checksum_address

from itgen_chain.exceptions import SafeError

VERSION = "1.4.1"
SAFE = "0x41675C099F32341bf84BFc5382aF534df5C7461a"
SAFE_L2 = "0x29fcB43b46531BcA003ddC8FCB67FFE91900C762"
PROXY_FACTORY = "0x4e1DCf7AD4e460CfD30791CCC4F9c8a4f820ec67"
MULTISEND_CALL_ONLY = "0x9641d764fc13c8B624c04430C7356C1C7C8102e2"
FALLBACK_HANDLER = "0xfd0732Dc9E303f09fCEf3a7388Ad10A83459Ec99"
SIMULATE_TX_ACCESSOR = "0x3d4BA2E0884aa488718476ca2FB8Efc291A46199"
ZERO = "0x0000000000000000000000000000000000000000"
CALL, DELEGATECALL = 0, 1

DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")
SAFE_TX_TYPEHASH = keccak(
    text="SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
    "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)
MULTISEND_SELECTOR = keccak(text="multiSend(bytes)")[:4]

# The Safe's own revert codes (GSxxx), in words.
SAFE_ERRORS = {
    "GS010": "not enough gas to execute the Safe transaction",
    "GS013": "a call in the Safe transaction reverted, so the whole Safe transaction fails",
    "GS020": "the signatures are too short for the threshold",
    "GS021": "a contract signature points outside the signature data",
    "GS024": "a contract signature is not valid",
    "GS025": "an owner's approval (approveHash) is missing for this hash",
    "GS026": "a signature is not from an owner, or the signatures are not in owner order",
    "GS030": "only an owner may approve a hash",
}


@dataclass(frozen=True)
class Call:
    """One call the Safe makes: target, value (wei) and calldata; a plain call unless said."""

    to: str
    value: int
    data: bytes
    operation: int = CALL


@dataclass(frozen=True)
class SafeTx:
    """The transaction owners sign, with the fields of Safe's EIP-712 `SafeTx` type."""

    safe: str
    chain_id: int
    to: str
    value: int
    data: bytes
    operation: int
    nonce: int
    safe_tx_gas: int = 0
    base_gas: int = 0
    gas_price: int = 0
    gas_token: str = ZERO
    refund_receiver: str = ZERO

    def domain_separator(self) -> bytes:
        return keccak(
            abi_encode(
                ["bytes32", "uint256", "address"], [DOMAIN_TYPEHASH, self.chain_id, self.safe]
            )
        )

    def struct_hash(self) -> bytes:
        return keccak(
            abi_encode(
                ["bytes32", "address", "uint256", "bytes32", "uint8"]
                + ["uint256", "uint256", "uint256", "address", "address", "uint256"],
                [SAFE_TX_TYPEHASH, self.to, self.value, keccak(self.data), self.operation]
                + [self.safe_tx_gas, self.base_gas, self.gas_price, self.gas_token]
                + [self.refund_receiver, self.nonce],
            )
        )

    @property
    def hash(self) -> bytes:
        """The Safe transaction hash: what each owner signs and compares."""
        return keccak(b"\x19\x01" + self.domain_separator() + self.struct_hash())

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash.hex()

    def signable(self) -> SignableMessage:
        """The EIP-712 message a wallet signs (version 0x01: domain separator, struct hash)."""
        return SignableMessage(b"\x01", self.domain_separator(), self.struct_hash())

    def calls(self) -> list[Call]:
        """The calls the Safe will make: a MultiSendCallOnly batch unpacked, or itself."""
        if self.operation == DELEGATECALL and self.to == MULTISEND_CALL_ONLY:
            return unpack_multisend(self.data)
        return [Call(self.to, self.value, self.data, self.operation)]

    def fields(self) -> dict[str, Any]:
        """The fields as Safe's tools write them (camelCase, numbers as decimal strings)."""
        return {
            "to": self.to,
            "value": str(self.value),
            "data": "0x" + self.data.hex(),
            "operation": self.operation,
            "safeTxGas": str(self.safe_tx_gas),
            "baseGas": str(self.base_gas),
            "gasPrice": str(self.gas_price),
            "gasToken": self.gas_token,
            "refundReceiver": self.refund_receiver,
            "nonce": str(self.nonce),
        }

    @classmethod
    def from_fields(cls, safe: str, chain_id: int, fields: dict[str, Any]) -> SafeTx:
        """Reads `fields` (as `fields()` writes them); raises ValueError naming the field."""

        def address(name: str) -> str:
            text = fields.get(name)
            if not isinstance(text, str) or not is_address(text):
                raise ValueError(f"{name} {text!r} is not an address")
            return to_checksum_address(text)

        def number(name: str, default: int | None = None) -> int:
            text = fields.get(name, default)
            try:
                value = int(str(text), 0) if isinstance(text, str) else int(text)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(f"{name} {text!r} is not a number") from None
            if value < 0:
                raise ValueError(f"{name} is negative")
            return value

        data = fields.get("data") or "0x"
        if not isinstance(data, str) or not data.startswith("0x"):
            raise ValueError(f"data {data!r} is not 0x-prefixed hex")
        try:
            payload = bytes.fromhex(data[2:])
        except ValueError:
            raise ValueError("data is not hex") from None
        operation = number("operation")
        if operation not in (CALL, DELEGATECALL):
            raise ValueError(f"operation {operation} is neither 0 (call) nor 1 (delegatecall)")
        return cls(
            to_checksum_address(safe),
            chain_id,
            address("to"),
            number("value"),
            payload,
            operation,
            number("nonce"),
            number("safeTxGas", 0),
            number("baseGas", 0),
            number("gasPrice", 0),
            address("gasToken") if "gasToken" in fields else ZERO,
            address("refundReceiver") if "refundReceiver" in fields else ZERO,
        )


def transaction_for(safe: str, chain_id: int, nonce: int, calls: list[Call]) -> SafeTx:
    """One call as itself; several as one delegate call to MultiSendCallOnly."""
    if not calls:
        raise SafeError("nothing to send")
    if len(calls) == 1:
        call = calls[0]
        return SafeTx(safe, chain_id, call.to, call.value, call.data, call.operation, nonce)
    return SafeTx(
        safe, chain_id, MULTISEND_CALL_ONLY, 0, pack_multisend(calls), DELEGATECALL, nonce
    )


def pack_multisend(calls: list[Call]) -> bytes:
    """`multiSend(bytes)` calldata: each call packed as operation ‖ to ‖ value ‖ length ‖ data."""
    packed = b"".join(
        bytes([call.operation])
        + bytes.fromhex(call.to[2:])
        + call.value.to_bytes(32, "big")
        + len(call.data).to_bytes(32, "big")
        + call.data
        for call in calls
    )
    return MULTISEND_SELECTOR + abi_encode(["bytes"], [packed])


def unpack_multisend(data: bytes) -> list[Call]:
    """The calls of `multiSend(bytes)` calldata; raises SafeError when it is not one."""
    if data[:4] != MULTISEND_SELECTOR:
        raise SafeError("the delegate call to MultiSendCallOnly is not multiSend(bytes)")
    try:
        (packed,) = abi_decode(["bytes"], data[4:])
    except Exception:  # eth_abi's decoding errors
        raise SafeError("the MultiSend batch cannot be decoded") from None
    calls, at = [], 0
    while at < len(packed):
        if at + 85 > len(packed):
            raise SafeError("the MultiSend batch is cut short")
        operation = packed[at]
        to = to_checksum_address(packed[at + 1 : at + 21])
        value = int.from_bytes(packed[at + 21 : at + 53], "big")
        length = int.from_bytes(packed[at + 53 : at + 85], "big")
        if at + 85 + length > len(packed):
            raise SafeError("the MultiSend batch is cut short")
        calls.append(Call(to, value, bytes(packed[at + 85 : at + 85 + length]), operation))
        at += 85 + length
    return calls


# ---------------------------------------------------------------- the Safe on chain


@cache
def abi(name: str) -> list[dict[str, Any]]:
    """A Safe contract's ABI shipped in the package: Safe, MultiSendCallOnly,
    SimulateTxAccessor or CompatibilityFallbackHandler."""
    text = resources.files("itgen_chain").joinpath(f"data/{name}.abi.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class Safe:
    """A Safe as the chain has it now."""

    address: str
    chain_id: int
    owners: tuple[str, ...]
    threshold: int
    nonce: int

    def is_owner(self, address: str) -> bool:
        return to_checksum_address(address) in self.owners

    def describe(self) -> str:
        return f"the Safe {self.address} ({self.threshold} of {len(self.owners)} owners)"


def resolve(alias_or_address: str) -> str:
    """An address, or an alias added with `ape safe add`, to the Safe's address."""
    if is_address(alias_or_address):
        return to_checksum_address(alias_or_address)
    from ape import accounts

    container = accounts.containers.get("safe")
    if container is not None and alias_or_address in list(container.aliases):
        return container.load_account(alias_or_address).address
    raise SafeError(
        f"--safe {alias_or_address!r} is neither an address nor a Safe added with `ape safe add`"
    )


def read(web3: Any, address: str) -> Safe:
    """The Safe at `address`, checked to be a Safe 1.4.1."""
    address = to_checksum_address(address)
    chain_id = web3.eth.chain_id
    if not web3.eth.get_code(address):
        raise SafeError(f"no Safe at {address} on chain {chain_id}")
    contract = web3.eth.contract(address, abi=abi("Safe"))
    try:
        version = contract.functions.VERSION().call()
        owners = contract.functions.getOwners().call()
        threshold = contract.functions.getThreshold().call()
        nonce = contract.functions.nonce().call()
    except Exception as error:  # web3's ContractLogicError or a decoding error
        raise SafeError(f"{address} does not answer as a Safe") from error
    if version != VERSION:
        raise SafeError(f"the Safe at {address} is version {version}, not {VERSION}")
    return Safe(address, chain_id, tuple(map(to_checksum_address, owners)), threshold, nonce)


def ape_contract(address: str) -> Any:
    """The Safe as an ape contract (ape sends its transactions: gas, fees, keystore)."""
    from ape import chain
    from ethpm_types import ContractType

    return chain.contracts.instance_at(
        address, contract_type=ContractType(contractName="Safe", abi=abi("Safe"))
    )


@dataclass(frozen=True)
class Simulation:
    """The SafeTx run in the Safe's context: did it succeed, its gas, and its return data."""

    success: bool
    gas: int
    returned: bytes


def simulate(web3: Any, safe_tx: SafeTx) -> Simulation:
    """Runs `safe_tx` exactly as the Safe will (SimulateTxAccessor through the Safe's
    `simulateAndRevert`, in one eth_call that changes nothing)."""
    if not web3.eth.get_code(SIMULATE_TX_ACCESSOR):
        raise SafeError(
            f"Safe {VERSION}'s SimulateTxAccessor is not at {SIMULATE_TX_ACCESSOR} on chain "
            f"{safe_tx.chain_id}: the Safe transaction cannot be checked before signing"
        )
    accessor = web3.eth.contract(SIMULATE_TX_ACCESSOR, abi=abi("SimulateTxAccessor"))
    payload = accessor.encode_abi(
        "simulate", [safe_tx.to, safe_tx.value, safe_tx.data, safe_tx.operation]
    )
    safe = web3.eth.contract(safe_tx.safe, abi=abi("Safe"))
    request = {
        "to": safe_tx.safe,
        "data": safe.encode_abi("simulateAndRevert", [SIMULATE_TX_ACCESSOR, payload]),
    }
    response = web3.provider.make_request("eth_call", [request, "latest"])
    error = response.get("error") or {}
    data = error.get("data")
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    if not isinstance(data, str) or not data.startswith("0x"):
        raise SafeError(
            f"the Safe {safe_tx.safe} did not simulate the transaction: {error or response}"
        )
    reverted = bytes.fromhex(data[2:])
    # simulateAndRevert: success ‖ length ‖ what the accessor returned.
    if int.from_bytes(reverted[:32], "big") != 1:
        raise SafeError(f"the Safe {safe_tx.safe} could not run SimulateTxAccessor")
    gas, success, returned = abi_decode(["uint256", "bool", "bytes"], reverted[64:])
    return Simulation(success, gas, bytes(returned))


def check(
    web3: Any,
    safe_tx: SafeTx,
    explain: Callable[[bytes], str],
    describe: Callable[[int, Call], str],
) -> Simulation:
    """Simulates the whole SafeTx; when it fails, names the first call that fails with the
    ones before it applied, and why, then raises SafeError. MultiSendCallOnly drops a failing
    call's reason, so the reason comes from that call alone or, when alone it would pass,
    from its place in the batch."""
    outcome = simulate(web3, safe_tx)
    if outcome.success:
        return outcome
    calls = safe_tx.calls()
    if len(calls) == 1:
        reason = explain(outcome.returned)
        raise SafeError(f"{describe(1, calls[0])} would revert: {reason}; nothing was signed")
    for count in range(1, len(calls) + 1):
        prefix = transaction_for(safe_tx.safe, safe_tx.chain_id, safe_tx.nonce, calls[:count])
        if count < len(calls) and simulate(web3, prefix).success:
            continue
        alone = simulate(
            web3, transaction_for(safe_tx.safe, safe_tx.chain_id, safe_tx.nonce, [calls[count - 1]])
        )
        if not alone.success:
            reason = explain(alone.returned)
        else:
            reason = "it passes alone, but not after the calls before it in this Safe transaction"
        raise SafeError(
            f"call {count} of {len(calls)}, {describe(count, calls[count - 1])}, would revert: "
            f"{reason}; the whole Safe transaction would fail, so nothing was signed"
        )
    raise SafeError("the Safe transaction would fail; nothing was signed")


def sign(account: Any, safe_tx: SafeTx) -> bytes:
    """An owner's EIP-712 signature of the SafeTx (r ‖ s ‖ v), from an ape account."""
    signature = account.sign_message(safe_tx.signable())
    if signature is None:
        raise SafeError(f"{account.address} did not sign")
    encoded = signature.encode_rsv() if hasattr(signature, "encode_rsv") else bytes(signature)
    if recover(safe_tx, encoded) != account.address:
        raise SafeError(f"the signature from {account.address} does not recover to it")
    return encoded


def recover(safe_tx: SafeTx, signature: bytes) -> str:
    """The address an EIP-712 signature (v 27 or 28) of the SafeTx recovers to."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise ValueError("not a 65-byte signature with v 27 or 28")
    return to_checksum_address(Account._recover_hash(safe_tx.hash, signature=signature))


def approvals(web3: Any, safe: Safe, safe_tx: SafeTx) -> list[str]:
    """The owners who approved the hash on chain (`approveHash`)."""
    contract = web3.eth.contract(safe.address, abi=abi("Safe"))
    return [
        owner
        for owner in safe.owners
        if contract.functions.approvedHashes(owner, safe_tx.hash).call() != 0
    ]


def encode_signatures(signatures: dict[str, bytes], approved: Iterable[str]) -> bytes:
    """The `signatures` argument of execTransaction: one 65-byte entry an owner, in
    ascending owner order; an on-chain approval is (owner, 0, v=1)."""
    entries = dict(signatures)
    for owner in approved:
        entries.setdefault(owner, bytes(12) + bytes.fromhex(owner[2:]) + bytes(32) + b"\x01")
    return b"".join(entries[owner] for owner in sorted(entries, key=lambda a: int(a, 16)))


def safe_error(text: str) -> str | None:
    """The Safe's GSxxx revert code in `text`, in words, or None."""
    for code, words in SAFE_ERRORS.items():
        if code in text:
            return f"{words} ({code})"
    return None
