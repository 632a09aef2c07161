"""Reserve now, claim later: a student without a wallet is paid through a claim link.

A registrar reserves a student's scholarship for a *claim key*, an address whose private
key only the student's link holds. The student (through the charity's claim page) signs an
EIP-712 ``Claim`` with that key naming the wallet to pay, and anyone (the charity's relayer)
submits it. The claim is bound to the escrow, the chain, the student, the milestone, the
payee and a deadline, so a mempool watcher cannot redirect it.

Claim keys are derived, never stored: ``keccak(seed ‖ studentId ‖ milestone ‖ issue)``,
where the seed is the registrar's own signature of a fixed message naming the escrow and
chain (deterministic, RFC 6979). A rerun after a crash gives the same links; a lost link
is reissued by cancelling and reserving with the next ``issue``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_utils import keccak, to_checksum_address

from .attestations import SECP256K1_HALF_N, Milestone, domain_separator

CLAIM_TYPEHASH = keccak(b"Claim(bytes32 studentId,uint8 milestone,address payee,uint256 deadline)")
# secp256k1's group order (a public curve constant): a private key lies in [1, N).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Reservation:
    """What a registrar reserves: a student's milestone of a course, for a claim key."""

    student_id: bytes
    claim_key: str
    course_id: int
    milestone: Milestone

    def as_tuple(self) -> tuple[bytes, str, int, int]:
        """The contract's ``Reservation`` struct, in ABI order."""
        return (self.student_id, self.claim_key, self.course_id, int(self.milestone))


@dataclass(frozen=True)
class Claim:
    """A student's signed claim: pay the reserved milestone to `payee` until `deadline`."""

    student_id: bytes
    milestone: Milestone
    payee: str
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[bytes, int, str, int, bytes]:
        """The contract's ``Claim`` struct, in ABI order."""
        return (self.student_id, int(self.milestone), self.payee, self.deadline, self.signature)

    def as_json(self) -> dict[str, Any]:
        return {
            "studentId": "0x" + self.student_id.hex(),
            "milestone": int(self.milestone),
            "payee": self.payee,
            "deadline": self.deadline,
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Claim:
        """A claim as the claim page sends it; ValueError naming the field that is wrong."""
        try:
            student_id = bytes.fromhex(str(data["studentId"]).removeprefix("0x"))
            milestone = Milestone(int(data["milestone"]))
            payee = to_checksum_address(str(data["payee"]))
            deadline = int(data["deadline"])
            signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
        except KeyError as missing:
            raise ValueError(f"the claim has no {missing.args[0]}") from None
        except (TypeError, ValueError) as error:
            raise ValueError(f"the claim is malformed: {error}") from None
        if len(student_id) != 32:
            raise ValueError("studentId is not 32 bytes")
        if len(signature) != 65:
            raise ValueError(f"signature is {len(signature)} bytes, not 65")
        return cls(student_id, milestone, payee, deadline, signature)


def claim_struct_hash(student_id: bytes, milestone: int, payee: str, deadline: int) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "uint8", "address", "uint256"],
            [CLAIM_TYPEHASH, student_id, int(milestone), to_checksum_address(payee), deadline],
        )
    )


def claim_digest(
    student_id: bytes, milestone: int, payee: str, deadline: int, chain_id: int, escrow: str
) -> bytes:
    """The 32 bytes a claim key signs; equals the contract's ``claimDigest``."""
    struct_hash = claim_struct_hash(student_id, milestone, payee, deadline)
    return keccak(b"\x19\x01" + domain_separator(chain_id, escrow) + struct_hash)


def sign_claim(
    student_id: bytes,
    milestone: Milestone,
    payee: str,
    deadline: int,
    chain_id: int,
    escrow: str,
    claim_key: bytes,
) -> Claim:
    """Signs a claim with the student's claim key (``r ‖ s ‖ v``, low s)."""
    message = SignableMessage(
        b"\x01",
        domain_separator(chain_id, escrow),
        claim_struct_hash(student_id, milestone, payee, deadline),
    )
    signed = Account.sign_message(message, claim_key)
    return Claim(
        student_id,
        Milestone(milestone),
        to_checksum_address(payee),
        deadline,
        bytes(signed.signature),
    )


def claim_signer(claim: Claim, chain_id: int, escrow: str) -> str:
    """The address that signed `claim`, as the contract recovers it; ValueError if malformed."""
    if int.from_bytes(claim.signature[32:64], "big") > SECP256K1_HALF_N:
        raise ValueError("signature is malleable (high s)")
    digest = claim_digest(
        claim.student_id, claim.milestone, claim.payee, claim.deadline, chain_id, escrow
    )
    return Account._recover_hash(digest, signature=claim.signature)


# ------------------------------------------------------------------ claim keys


def seed_message(escrow: str, chain_id: int) -> str:
    """What a registrar signs once to derive its claim keys for one escrow."""
    return (
        "itgen-chain claim keys\n"
        f"escrow: {to_checksum_address(escrow)}\n"
        f"chain: {chain_id}\n"
        "Sign only in the itgen attest command."
    )


def seed_from_signature(signature: bytes) -> bytes:
    return keccak(b"itgen claim seed" + signature)


def registrar_seed(account: Any, escrow: str, chain_id: int) -> bytes:
    """The registrar's seed: its signature (RFC 6979, the same every time) of
    :func:`seed_message`. `account` is an ape account or an eth-account LocalAccount."""
    message = encode_defunct(text=seed_message(escrow, chain_id))
    if hasattr(account, "sign_message") and hasattr(account, "key"):
        signature = bytes(account.sign_message(message).signature)
    else:
        signed = account.sign_message(message)
        if signed is None:
            raise ValueError("the account refused to sign the claim-key seed")
        signature = bytes(signed.encode_rsv())
    return seed_from_signature(signature)


def claim_private_key(seed: bytes, student_id: bytes, milestone: int, issue: int = 0) -> bytes:
    """The claim key's private key for one reservation; `issue` counts reissues."""
    counter = 0
    while True:
        candidate = keccak(
            seed
            + student_id
            + bytes([int(milestone)])
            + issue.to_bytes(4, "big")
            + bytes([counter])
        )
        if 0 < int.from_bytes(candidate, "big") < SECP256K1_N:
            return candidate
        counter += 1  # not reached in practice: about 1 in 2^128


def claim_key_address(private_key: bytes) -> str:
    return Account.from_key(private_key).address


# ------------------------------------------------------------------ links


@dataclass(frozen=True)
class Link:
    """What a claim link carries, all in the URL fragment (never sent to a server)."""

    base: str
    chain_id: int
    escrow: str
    student_id: bytes
    milestone: Milestone
    claim_key: bytes
    course_id: int
    amount: str
    relayer: str = ""

    def url(self) -> str:
        fields = {
            "c": self.chain_id,
            "e": to_checksum_address(self.escrow),
            "s": "0x" + self.student_id.hex(),
            "m": int(self.milestone),
            "k": base64.urlsafe_b64encode(self.claim_key).decode().rstrip("="),
            "course": self.course_id,
            "amount": self.amount,
        }
        if self.relayer:
            fields["r"] = self.relayer
        fragment = "&".join(f"{key}={value}" for key, value in fields.items())
        return f"{self.base.split('#', 1)[0]}#{fragment}"

    @classmethod
    def parse(cls, url: str) -> Link:
        """A link back to its fields; ValueError naming what is missing or wrong."""
        parts = urlsplit(url)
        if not parts.fragment:
            raise ValueError("the link has no fragment (the part after #)")
        if parts.query:
            raise ValueError("a claim link carries nothing in its query string")
        fields = dict(item.split("=", 1) for item in parts.fragment.split("&") if "=" in item)
        try:
            key = base64.urlsafe_b64decode(fields["k"] + "=" * (-len(fields["k"]) % 4))
            return cls(
                base=url.split("#", 1)[0],
                chain_id=int(fields["c"]),
                escrow=to_checksum_address(fields["e"]),
                student_id=bytes.fromhex(fields["s"].removeprefix("0x")),
                milestone=Milestone(int(fields["m"])),
                claim_key=key,
                course_id=int(fields.get("course", 0)),
                amount=fields.get("amount", ""),
                relayer=fields.get("r", ""),
            )
        except KeyError as missing:
            raise ValueError(f"the link has no '{missing.args[0]}' field") from None
