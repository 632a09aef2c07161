"""The EIP-712 attestation: typed data, signing with eth-account, verification.

The typed data is standard (EIP-712 v4): a wallet's ``eth_signTypedData_v4`` over
:func:`typed_data` with the same key yields the same signature as :func:`sign`.

Every signature carries its registrar's epoch (``registrar(account).epoch`` on chain): a
registrar that expired and was given a new term is in a new epoch, and what it signed before
never pays; a removed address can never be a registrar again. A deadline may lie at most
30 days after submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_utils import keccak, to_checksum_address

DOMAIN_NAME = "ScholarshipEscrow"
# The escrow's MAX_SIGNATURE_VALIDITY: a deadline further from submission is refused.
MAX_SIGNATURE_VALIDITY = 30 * 86_400
DOMAIN_VERSION = "1"
# Half the secp256k1 group order (a public curve constant): an s above it is malleable.
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

ATTESTATION_TYPES: dict[str, list[dict[str, str]]] = {
    "Attestation": [
        {"name": "studentId", "type": "bytes32"},
        {"name": "payee", "type": "address"},
        {"name": "courseId", "type": "uint256"},
        {"name": "milestone", "type": "uint8"},
        {"name": "epoch", "type": "uint16"},
        {"name": "deadline", "type": "uint256"},
    ]
}
EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


class Milestone(IntEnum):
    """The contract's ``Milestone`` enum."""

    REGISTRATION = 0
    COMPLETION = 1

    @classmethod
    def parse(cls, text: str) -> Milestone:
        """``registration`` or ``completion`` (any case) to a milestone; ValueError otherwise."""
        return cls[text.strip().upper()]


@dataclass(frozen=True)
class Attestation:
    """What a registrar attests: a student reached a milestone of a course."""

    student_id: bytes
    payee: str
    course_id: int
    milestone: Milestone

    def as_tuple(self) -> tuple[bytes, str, int, int]:
        """The contract's ``Attestation`` struct, in ABI order."""
        return (self.student_id, self.payee, self.course_id, int(self.milestone))


@dataclass(frozen=True)
class SignedAttestation:
    """An attestation with its registrar's epoch, its deadline and the 65-byte signature."""

    attestation: Attestation
    epoch: int
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[tuple[bytes, str, int, int], int, int, bytes]:
        """The contract's ``SignedAttestation`` struct, in ABI order."""
        return (self.attestation.as_tuple(), self.epoch, self.deadline, self.signature)


def domain(chain_id: int, escrow: str) -> dict[str, Any]:
    """The EIP-712 domain: binds the chain and the escrow's address."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(escrow),
    }


def typed_data(
    attestation: Attestation, epoch: int, deadline: int, chain_id: int, escrow: str
) -> dict:
    """The full EIP-712 message, as a wallet's ``eth_signTypedData_v4`` takes it."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, **ATTESTATION_TYPES},
        "primaryType": "Attestation",
        "domain": domain(chain_id, escrow),
        "message": {
            "studentId": "0x" + attestation.student_id.hex(),
            "payee": to_checksum_address(attestation.payee),
            "courseId": attestation.course_id,
            "milestone": int(attestation.milestone),
            "epoch": epoch,
            "deadline": deadline,
        },
    }


ATTESTATION_TYPEHASH = keccak(
    b"Attestation(bytes32 studentId,address payee,uint256 courseId,uint8 milestone,"
    b"uint16 epoch,uint256 deadline)"
)
DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


@lru_cache(maxsize=16)
def domain_separator(chain_id: int, escrow: str) -> bytes:
    """The EIP-712 domain separator, as the contract computes it."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                DOMAIN_TYPEHASH,
                keccak(DOMAIN_NAME.encode()),
                keccak(DOMAIN_VERSION.encode()),
                chain_id,
                to_checksum_address(escrow),
            ],
        )
    )


def signable(
    attestation: Attestation, epoch: int, deadline: int, chain_id: int, escrow: str
) -> SignableMessage:
    """The EIP-712 message, built directly (the same bytes as ``encode_typed_data``, faster)."""
    struct_hash = keccak(
        abi_encode(
            ["bytes32", "bytes32", "address", "uint256", "uint8", "uint16", "uint256"],
            [
                ATTESTATION_TYPEHASH,
                attestation.student_id,
                attestation.payee,
                attestation.course_id,
                int(attestation.milestone),
                epoch,
                deadline,
            ],
        )
    )
    return SignableMessage(b"\x01", domain_separator(chain_id, escrow), struct_hash)


def digest(
    attestation: Attestation, epoch: int, deadline: int, chain_id: int, escrow: str
) -> bytes:
    """The 32 bytes a registrar signs; equals the contract's ``attestationDigest``."""
    message = signable(attestation, epoch, deadline, chain_id, escrow)
    return keccak(b"\x19" + message.version + message.header + message.body)


def sign(
    attestation: Attestation,
    epoch: int,
    deadline: int,
    chain_id: int,
    escrow: str,
    private_key: bytes | str,
) -> SignedAttestation:
    """Signs an attestation with a registrar's key in its `epoch` (``r ‖ s ‖ v``, low s)."""
    message = signable(attestation, epoch, deadline, chain_id, escrow)
    signed = Account.sign_message(message, private_key)
    return SignedAttestation(attestation, epoch, deadline, bytes(signed.signature))


def recover(signed: SignedAttestation, chain_id: int, escrow: str) -> str:
    """The address that signed, as the contract recovers it. Raises ValueError when malformed."""
    if len(signed.signature) != 65:
        raise ValueError(f"signature is {len(signed.signature)} bytes, not 65")
    if int.from_bytes(signed.signature[32:64], "big") > SECP256K1_HALF_N:
        raise ValueError("signature is malleable (high s)")
    message_hash = digest(signed.attestation, signed.epoch, signed.deadline, chain_id, escrow)
    return Account._recover_hash(message_hash, signature=signed.signature)
