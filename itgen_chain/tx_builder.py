"""Safe{Wallet}'s Transaction Builder files: a batch of calls for signers who use the web app.

The format is the Transaction Builder's "1.0": version, chainId, createdAt (milliseconds),
meta (name, description, txBuilderVersion, createdFromSafeAddress, createdFromOwnerAddress,
checksum) and transactions (to, value, data, contractMethod, contractInputsValues). The
checksum is the app's own: keccak-256 of its canonical serialisation (keys sorted at every
level, meta.name set to null), so the app accepts the file as unmodified.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from itgen_chain.exceptions import ItgenError

TX_BUILDER_VERSION = "1.18.0"


class BatchFileError(ItgenError):
    """A Transaction Builder file that cannot be read, or whose checksum does not match."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")


def serialize(value: Any) -> str:
    """The Transaction Builder's serialisation: objects as the JSON list of their sorted keys
    followed by each value and a comma; arrays, strings, numbers as JSON."""
    if isinstance(value, list):
        return "[" + ",".join(serialize(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value)
        return "{" + _json(keys) + "".join(serialize(value[key]) + "," for key in keys) + "}"
    return _json(value)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def checksum(batch: dict[str, Any]) -> str:
    """The checksum the app computes for `batch` (its meta without a checksum field)."""
    content = {**batch, "meta": {**batch["meta"], "name": None}}
    return "0x" + keccak(text=serialize(content)).hex()


def _value(abi_type: str, value: Any) -> str:
    if abi_type == "bool":
        return "true" if value else "false"
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def transaction(change: Any) -> dict[str, Any]:
    """One change as a Transaction Builder transaction: the method and its inputs as text."""
    abi = change.abi
    inputs = [
        {"internalType": i.internal_type or i.type, "name": i.name, "type": i.type}
        for i in abi.inputs
    ]
    return {
        "to": to_checksum_address(change.to),
        "value": "0",
        "data": None,
        "contractMethod": {
            "inputs": inputs,
            "name": abi.name,
            "payable": abi.stateMutability == "payable",
        },
        "contractInputsValues": {
            i.name: _value(i.type, arg) for i, arg in zip(abi.inputs, change.args, strict=True)
        },
    }


def batch_file(
    changes: list[Any], chain_id: int, safe: str, name: str, created_at: int | None = None
) -> dict[str, Any]:
    """The batch with its checksum."""
    batch = {
        "version": "1.0",
        "chainId": str(chain_id),
        "createdAt": created_at if created_at is not None else int(time.time() * 1000),
        "meta": {
            "name": name,
            "description": "; ".join(change.what for change in changes),
            "txBuilderVersion": TX_BUILDER_VERSION,
            "createdFromSafeAddress": to_checksum_address(safe),
            "createdFromOwnerAddress": "",
        },
        "transactions": [transaction(change) for change in changes],
    }
    batch["meta"]["checksum"] = checksum(batch)
    return batch


def write(path: Path, batch: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(batch, indent=2) + "\n")
    return path


def read(path: Path, chain_id: int) -> tuple[dict[str, Any], list[tuple[str, int, bytes]]]:
    """The batch and its calls (to, value, data), encoded from contractMethod and
    contractInputsValues as the app does (or from data when there is no method). Refuses a
    file for another chain or with a checksum that does not match."""
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    try:
        batch = json.loads(path.read_text(encoding="utf-8"))
        meta = dict(batch["meta"])
        transactions = batch["transactions"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BatchFileError(path, f"not a Transaction Builder file ({error})") from None
    if batch.get("chainId") != str(chain_id):
        raise BatchFileError(path, f"made for chain {batch.get('chainId')}, not {chain_id}")
    stated = meta.pop("checksum", None)
    if stated is not None and stated != checksum({**batch, "meta": meta}):
        raise BatchFileError(path, "the checksum does not match: the file was changed")
    calls = []
    for number, item in enumerate(transactions, start=1):
        try:
            method = item.get("contractMethod")
            if method:
                types = [i["type"] for i in method["inputs"]]
                values = [
                    _parse(i["type"], item["contractInputsValues"][i["name"]])
                    for i in method["inputs"]
                ]
                selector = function_signature_to_4byte_selector(
                    f"{method['name']}({','.join(types)})"
                )
                data = selector + encode(types, values)
            else:
                data = bytes.fromhex((item.get("data") or "0x")[2:])
            calls.append((to_checksum_address(item["to"]), int(item.get("value") or 0), data))
        except (KeyError, ValueError, TypeError) as error:
            raise BatchFileError(path, f"transaction {number}: {error}") from None
    return batch, calls


def _parse(abi_type: str, text: str) -> Any:
    if abi_type == "bool":
        if text not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text == "true"
    if abi_type.startswith(("uint", "int")):
        return int(text)
    if abi_type == "address":
        return to_checksum_address(text)
    if abi_type.startswith("bytes"):
        return bytes.fromhex(text.removeprefix("0x"))
    return text
