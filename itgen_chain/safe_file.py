"""A portable Safe transaction file: owners on separate machines gather signatures on one
Safe transaction with no hosted service.

    {"format": "itgen-chain/safe-transaction/1",
     "chainId": 97, "safe": "0x...", "escrow": "0x...",   the program it is for
     "description": "...",                                what its maker said (shown as such)
     "safeTx": {"to", "value", "data", "operation", "safeTxGas", "baseGas", "gasPrice",
                "gasToken", "refundReceiver", "nonce"},   Safe's EIP-712 SafeTx fields
     "safeTxHash": "0x...",                               their EIP-712 hash
     "signatures": {"0xOwner": "0x r ‖ s ‖ v"}}           gathered so far

Reading recomputes the hash from the fields and refuses a file whose stated hash differs, and
a signature that does not recover to the owner it is filed under; the calls an owner is shown
are decoded from `safeTx.data`, never taken from the file's words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from itgen_chain.exceptions import SafeFileError
from itgen_chain.safe import SafeTx, recover

FORMAT = "itgen-chain/safe-transaction/1"


@dataclass
class SafeTxFile:
    """A Safe transaction and the owners' signatures gathered for it."""

    safe_tx: SafeTx
    escrow: str
    description: str = ""
    signatures: dict[str, bytes] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "chainId": self.safe_tx.chain_id,
            "safe": self.safe_tx.safe,
            "escrow": self.escrow,
            "description": self.description,
            "safeTx": self.safe_tx.fields(),
            "safeTxHash": self.safe_tx.hash_hex,
            "signatures": {
                owner: "0x" + signature.hex()
                for owner, signature in sorted(self.signatures.items(), key=lambda i: int(i[0], 16))
            },
        }

    def add(self, other: SafeTxFile) -> None:
        """Takes the signatures of another copy of the same Safe transaction."""
        if other.safe_tx.hash != self.safe_tx.hash:
            raise SafeFileError(
                "copies",
                f"{other.safe_tx.hash_hex} is another Safe transaction than {self.safe_tx.hash_hex}",
            )
        self.signatures.update(other.signatures)


def write(path: Path, file: SafeTxFile, *, new: bool) -> Path:
    """Writes the file; a `new` one never replaces an existing file."""
    if new and path.exists():
        raise SafeFileError(path, "exists already: choose another name, or sign that one")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(file.content(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def read(path: Path) -> SafeTxFile:
    """The file, checked: its hash recomputed, each signature recovered to its owner."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SafeFileError(path, f"not a Safe transaction file ({error})") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise SafeFileError(path, f"not a {FORMAT} file")
    try:
        chain_id = int(content["chainId"])
        safe = content["safe"]
        if not is_address(safe):
            raise ValueError(f"safe {safe!r} is not an address")
        safe_tx = SafeTx.from_fields(safe, chain_id, dict(content["safeTx"]))
        escrow = to_checksum_address(content["escrow"])
    except (KeyError, TypeError, ValueError) as error:
        raise SafeFileError(path, f"unreadable ({error})") from None
    stated = str(content.get("safeTxHash", "")).lower()
    if stated != safe_tx.hash_hex:
        raise SafeFileError(
            path,
            f"its fields hash to {safe_tx.hash_hex}, but it says {stated or 'nothing'}: "
            "the file was changed after it was made",
        )
    signatures = {}
    for owner, text in dict(content.get("signatures") or {}).items():
        try:
            signature = bytes.fromhex(str(text).removeprefix("0x"))
            signer = recover(safe_tx, signature)
        except ValueError as error:
            raise SafeFileError(
                path, f"the signature filed under {owner} is malformed ({error})"
            ) from None
        if not is_address(owner) or signer != to_checksum_address(owner):
            raise SafeFileError(path, f"the signature filed under {owner} was made by {signer}")
        signatures[signer] = signature
    return SafeTxFile(safe_tx, escrow, str(content.get("description") or ""), signatures)
