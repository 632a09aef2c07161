"""Errors raised by itgen-chain. Each builds its own message from what went wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ItgenError(Exception):
    """The root of every error this package raises on purpose."""


class SignatureError(ItgenError):
    """A signed attestation does not verify."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"signed attestation {index}: {reason}")


class AmountError(ItgenError, ValueError):
    """An amount that cannot be converted to base units."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"amount {text!r}: {reason}")


class RowError(ItgenError):
    """One row of a roster that cannot be attested."""

    def __init__(self, row: int, field: str, reason: str) -> None:
        self.row, self.field, self.reason = row, field, reason
        # Row 0 is the roster as a whole (its total, the registrar, the program).
        super().__init__(f"row {row}, {field}: {reason}" if row else f"{field}: {reason}")


class RosterError(ItgenError):
    """A roster with bad rows: every problem, with row numbers, at once."""

    def __init__(self, path: str, errors: list[RowError]) -> None:
        self.path, self.errors = path, errors
        lines = "\n".join(f"  {path}: {error}" for error in errors)
        super().__init__(f"{path}: {len(errors)} bad row(s); nothing was sent\n{lines}")


class RegistrarExpiryError(ItgenError):
    """A registrar expiry past the program end, which the escrow refuses."""

    def __init__(self, expiry: int, program_end: int) -> None:
        from itgen_chain.amounts import format_time as day

        super().__init__(
            f"expiry {day(expiry)} is after the program end {day(program_end)}: a registrar "
            "cannot outlive the program. Leave out --expiry to use the program end."
        )


class DeploymentError(ItgenError):
    """No usable deployment for this network, or one that must not be replaced."""


class NodeUnavailable(ItgenError):
    """The node stopped answering in the middle of a run."""

    def __init__(self, detail: str, resume: str) -> None:
        super().__init__(
            f"the node stopped answering ({detail}). Nothing is paid twice: run\n    {resume}\n"
            "again when the node is back; it resumes from the journal."
        )


class Cancelled(ItgenError):
    """The person running the command said no (or could not be asked and gave no --yes)."""

    def __init__(self, question: str) -> None:
        super().__init__(f"not confirmed ({question!r}); nothing was sent")


class AdminError(ItgenError):
    """An admin change the escrow would refuse, or one that would change nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}; nothing was sent")


class SafeError(ItgenError):
    """A Safe that cannot be used: not found, another version, or a signer not an owner."""


class CallRefused(SafeError):
    """A Safe transaction holding a call an admin batch never needs (another target, the
    Safe itself, value, a delegate call, an unknown function)."""

    def __init__(self, refusals: list[tuple[int, str]]) -> None:
        self.refusals = refusals
        reasons = "; ".join(f"call {number}: {reason}" for number, reason in refusals)
        super().__init__(f"refused, {reasons}; nothing was signed or sent")


class SafeFileError(SafeError):
    """A Safe transaction file or a Transaction Builder file that cannot be trusted or read."""

    def __init__(self, path: object, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}; nothing was signed or sent")


class ClaimJumped(ItgenError):
    """Rows of this run were paid by someone else, differently (claims.ClaimJump each):
    the run's own payments stand, but a person must look."""

    def __init__(self, jumps: Sequence[Any]) -> None:
        self.jumps = list(jumps)
        wallets = sum(jump.to_another_wallet for jump in jumps)
        rows = ", ".join(str(jump.row) for jump in jumps)
        super().__init__(
            f"{len(jumps)} row(s) paid differently by another transaction "
            f"({wallets} to another wallet): row(s) {rows}; see the lines above, and pause "
            "the program if a registrar key may be stolen"
        )
