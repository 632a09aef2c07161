"""Amounts as people type them (``450``, ``12.5``) to and from a token's base units, and
unix times as people read them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from itgen_chain.exceptions import AmountError


def to_base_units(text: str | int | Decimal, decimals: int) -> int:
    """``"12.5"`` with 6 decimals is ``12_500_000``. Refuses negatives and excess precision."""
    try:
        value = Decimal(str(text).strip().replace("_", "").replace(",", ""))
    except InvalidOperation:
        raise AmountError(str(text), "not a number") from None
    if not value.is_finite() or value < 0:
        raise AmountError(str(text), "must be a non-negative number")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise AmountError(str(text), f"has more than {decimals} decimal places")
    return int(scaled)


def to_tokens(base_units: int, decimals: int) -> Decimal:
    """Base units back to tokens, exactly."""
    return Decimal(base_units).scaleb(-decimals)


def format_tokens(base_units: int, decimals: int, places: int = 2) -> str:
    """``993850000000000000000000`` with 18 decimals reads ``993,850.00``; never rounded:
    ``12345678`` with 6 decimals reads ``12.345678``. At least `places` decimal places."""
    exact = to_tokens(base_units, decimals)
    text = f"{exact:,f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(places, "0")
    return f"{whole}.{fraction}" if fraction else whole


def format_time(moment: int) -> str:
    """``1798761600`` reads ``2027-01-01 00:00:00 UTC``."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
