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

from eth_utils import is_address, keccak, to_checksum_address

from itgen_chain.exceptions import SafeFileError
from itgen_chain.safe import Call

TX_BUILDER_VERSION = "1.18.0"


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


def _value(param: dict[str, Any], value: Any) -> str:
    """An argument as the app writes it: a string; arrays and tuples as JSON."""
    kind = param["type"]
    if kind.endswith("]") or kind.startswith("tuple"):
        return json.dumps(_plain(param, value), separators=(",", ":"))
    return _scalar(kind, value)


def _scalar(kind: str, value: Any) -> str:
    if kind == "bool":
        return "true" if value else "false"
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _plain(param: dict[str, Any], value: Any) -> Any:
    """Arrays and tuples as JSON lists of the app's scalar strings."""
    kind = param["type"]
    if kind.endswith("]"):
        inner = {**param, "type": kind[: kind.rindex("[")]}
        return [_plain(inner, item) for item in value]
    if kind.startswith("tuple"):
        return [_plain(c, item) for c, item in zip(param["components"], value, strict=True)]
    return _scalar(kind, value)


def _inputs(abi: Any) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json", by_alias=True, exclude_none=True) for i in abi.inputs]


def transaction(change: Any) -> dict[str, Any]:
    """One change as a Transaction Builder transaction: the calldata itself (what the app
    and safe-cli run) and, for people reading the app, the method and its inputs as text."""
    abi = change.abi
    inputs = _inputs(abi)
    return {
        "to": to_checksum_address(change.to),
        "value": "0",
        "data": "0x" + change.data.hex(),
        "contractMethod": {
            "inputs": [{**i, "internalType": i.get("internalType") or i["type"]} for i in inputs],
            "name": abi.name,
            "payable": abi.stateMutability == "payable",
        },
        "contractInputsValues": {
            i["name"]: _value(i, arg) for i, arg in zip(inputs, change.args, strict=True)
        },
    }


def batch_file(
    changes: list[Any], chain_id: int, safe: str, name: str, created_at: int | None = None
) -> dict[str, Any]:
    """The batch with its checksum."""
    batch: dict[str, Any] = {
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


def appended(batch: dict[str, Any], changes: list[Any]) -> dict[str, Any]:
    """`batch` (as read) with `changes` added at its end, its checksum made anew."""
    meta = {key: value for key, value in batch["meta"].items() if key != "checksum"}
    said = "; ".join(change.what for change in changes)
    meta["description"] = f"{meta['description']}; {said}" if meta.get("description") else said
    longer = {
        **batch,
        "meta": meta,
        "transactions": [*batch["transactions"], *(transaction(c) for c in changes)],
    }
    longer["meta"]["checksum"] = checksum(longer)
    return longer


def write(path: Path, batch: dict[str, Any], *, new: bool = True) -> Path:
    """Writes the batch; a `new` one never replaces an existing file."""
    if new and path.exists():
        raise SafeFileError(path, "exists already: add to it with --append, or choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(batch, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def read(path: Path, chain_id: int) -> tuple[dict[str, Any], list[Call]]:
    """The batch and its calls. `data` comes first, as in the app and safe-cli; a
    transaction whose `data` and `contractMethod` say different things is refused, and so
    is a file for another chain, or without a checksum, or whose checksum does not match."""
    try:
        batch = json.loads(path.read_text(encoding="utf-8"))
        meta = dict(batch["meta"])
        transactions = list(batch["transactions"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SafeFileError(path, f"not a Transaction Builder file ({error})") from None
    if str(batch.get("chainId")) != str(chain_id):
        raise SafeFileError(path, f"made for chain {batch.get('chainId')}, not {chain_id}")
    stated = meta.pop("checksum", None)
    if stated is None:
        raise SafeFileError(path, "it has no checksum, so an edit could not be detected")
    if stated != checksum({**batch, "meta": meta}):
        raise SafeFileError(path, "the checksum does not match: the file was changed")
    calls = []
    for number, item in enumerate(transactions, start=1):
        try:
            calls.append(_call(item))
        except (KeyError, ValueError, TypeError) as error:
            raise SafeFileError(path, f"transaction {number}: {error}") from None
    return batch, calls


def _call(item: dict[str, Any]) -> Call:
    to = item["to"]
    if not is_address(to):
        raise ValueError(f"to {to!r} is not an address")
    text = item.get("data")
    data = _hex_data(text) if text not in (None, "", "0x") else None
    method: Any = item.get("contractMethod")
    encoded = _encode(method, item.get("contractInputsValues") or {}) if method else None
    if data is not None and encoded is not None and data != encoded:
        raise ValueError(
            f"its data calls 0x{data[:4].hex()}… while its contractMethod says "
            f"{method['name']}(…) = 0x{encoded[:4].hex()}…: the two disagree, so "
            "readers of the file would run different calls"
        )
    value = str(item.get("value") or "0")
    return Call(
        to_checksum_address(to), _int(value), data if data is not None else (encoded or b"")
    )


def _hex_data(text: Any) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"data {text!r} is not 0x-prefixed hex")
    return bytes.fromhex(text[2:])


def _encode(method: dict[str, Any], values: dict[str, Any]) -> bytes:
    from eth_abi import encode

    inputs = method["inputs"]
    types = [_type(i) for i in inputs]
    parsed = [_parse(i, values[i["name"]]) for i in inputs]
    selector = keccak(text=f"{method['name']}({','.join(types)})")[:4]
    return selector + encode(types, parsed)


def _type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


def _parse(param: dict[str, Any], text: Any) -> Any:
    """A value as the app reads it: arrays and tuples as JSON, integers in decimal or hex,
    booleans as true/false."""
    kind = param["type"]
    if kind.endswith("]") or kind.startswith("tuple"):
        items = json.loads(text) if isinstance(text, str) else text
        if not isinstance(items, list):
            raise ValueError(f"{param.get('name')}: {text!r} is not a JSON list")
        if kind.endswith("]"):
            inner = {**param, "type": kind[: kind.rindex("[")]}
            return [_parse(inner, item) for item in items]
        return tuple(_parse(c, item) for c, item in zip(param["components"], items, strict=True))
    if kind == "bool":
        if text in (True, False):
            return text
        if str(text).lower() not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return str(text).lower() == "true"
    if kind.startswith(("uint", "int")):
        return _int(str(text))
    if kind == "address":
        if not is_address(str(text)):
            raise ValueError(f"{text!r} is not an address")
        return to_checksum_address(str(text))
    if kind.startswith("bytes"):
        return bytes.fromhex(str(text).removeprefix("0x"))
    return text


def _int(text: str) -> int:
    text = text.strip()
    return int(text, 16) if text.lower().startswith(("0x", "-0x")) else int(text)
