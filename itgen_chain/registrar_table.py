"""A registrar table (CSV): the changes it asks for, every bad row named at once.

    registrar,allowance,expiry,provider,action
    0xAbC...,200000,2027-08-31,3,set
    0xDeF...,,,,remove

allowance is in tokens as people write them (200000, 12.5); expiry is a date (UTC) or a
unix time, empty for the program end; provider (optional) is the number of the provider
whose courses the registrar may attest, empty to keep the current one (0 when new); action
is `set` (the default) or `remove` (which retires the address for good).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itgen_chain.exceptions import ItgenError, RosterError, RowError
from itgen_chain.roster import header_columns

COLUMNS = ("registrar", "allowance", "expiry", "provider", "action")


def _time(text: str) -> int:
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def changes_from_table(program: Any, path: Path) -> list[Any]:
    """The Program changes for each row, in order; raises RosterError naming each bad row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ItgenError(f"{path}: cannot read the table ({error})") from None
    header, body = (lines[0], lines[1:]) if lines else ([], [])
    if not any(any(cell.strip() for cell in line) for line in body):
        raise ItgenError(f"{path}: no rows (header: {', '.join(COLUMNS)})")
    # The roster's header rule: names as a person sees them, and a column named twice refused.
    columns, unknown = header_columns(path, header, COLUMNS)
    if "registrar" not in columns or unknown:
        raise ItgenError(
            f"{path}: the header must name registrar and may name allowance, expiry, provider, action "
            f"(found: {', '.join(header)})"
        )
    rows = [
        (number, {name: (line[at] if at < len(line) else "") for name, at in columns.items()})
        for number, line in enumerate(body, start=2)
        if any(cell.strip() for cell in line)
    ]
    changes: list[Any] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        registrar = (row.get("registrar") or "").strip()
        action = (row.get("action") or "set").strip().lower() or "set"
        try:
            if registrar in seen:
                raise RowError(number, "registrar", f"also on row {seen[registrar]}")
            seen[registrar] = number
            if action == "remove":
                changes.append(program.remove_registrar(registrar))
                continue
            if action != "set":
                raise RowError(number, "action", f"{action!r} is neither set nor remove")
            allowance_text = (row.get("allowance") or "").strip()
            if not allowance_text:
                raise RowError(number, "allowance", "empty")
            try:
                allowance = program.amount(allowance_text)
            except ItgenError as error:
                raise RowError(number, "allowance", str(error)) from None
            expiry_text = (row.get("expiry") or "").strip()
            try:
                expiry = _time(expiry_text) if expiry_text else None
            except ValueError:
                raise RowError(
                    number, "expiry", f"{expiry_text!r} is neither a date nor a unix time"
                ) from None
            provider_text = (row.get("provider") or "").strip()
            if provider_text and not (provider_text.isdigit() and int(provider_text) < 2**16):
                raise RowError(number, "provider", f"{provider_text!r} is not a number 0-65535")
            provider = int(provider_text) if provider_text else None
            changes.append(program.set_registrar(registrar, allowance, expiry, provider))
        except RowError as error:
            errors.append(error)
        except ItgenError as error:  # the Program's own checks, named with their row
            errors.append(RowError(number, "registrar", getattr(error, "reason", str(error))))
    if errors:
        raise RosterError(str(path), errors)
    return changes
