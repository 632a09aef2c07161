"""Errors raised by itgen-chain. Each builds its own message from what went wrong."""

from __future__ import annotations


class ItgenError(Exception):
    """The root of every error this package raises on purpose."""


class SignatureError(ItgenError):
    """A signed attestation does not verify."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"signed attestation {index}: {reason}")
