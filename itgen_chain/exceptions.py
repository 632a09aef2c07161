"""Errors raised by itgen-chain, in one tree (the way ape-safe roots its own in ape's):

    ItgenError (ape's ApeException)
    ├── NothingSent: refused before anything was signed or sent; says so itself
    │   ├── WouldRevert: the chain would refuse it (the reason decoded in words)
    │   ├── ProgramPaused, ProgramEnded: the program's state refuses every release
    │   ├── InsufficientBalance: an account or the escrow holds too little
    │   └── RosterError (RowError each), AdminError, Cancelled
    ├── SafeError (CallRefused, SafeFileError: "nothing was signed or sent")
    ├── ClaimJumped: the run's own payments stand, another paid some rows differently
    ├── DeploymentError, NodeUnavailable, RetriesSpent, StoreError, IndexerError,
    │   ExplorerError, SignatureError, AmountError, RegistrarExpiryError
    └── (not user errors) RejectedTransaction, RateLimited, IndexerRPCError: raised and
        caught inside the package

Each builds its own message from what went wrong; the CLI shows any ItgenError as one line
``Error: ...`` and exit code 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ape.exceptions import ApeException


class ItgenError(ApeException):
    """The root of every error this package raises on purpose."""


class NothingSent(ItgenError):
    """Refused before anything was signed or sent; the message ends by saying so."""

    suffix = "nothing was sent"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}; {self.suffix}")


class WouldRevert(NothingSent):
    """The chain would refuse `what`: simulated first, the reason decoded in words."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        super().__init__(f"{what} would revert: {reason}")


class ProgramPaused(NothingSent):
    """The program is paused: nothing is released until the admin resumes it."""

    def __init__(self) -> None:
        super().__init__("the program is paused: nothing is released until the admin resumes it")


class ProgramEnded(NothingSent):
    """The program has ended: nothing more is released."""

    def __init__(self, end: str) -> None:
        super().__init__(f"the program ended at {end}: nothing more is released")


class InsufficientBalance(NothingSent):
    """`holder` holds `held` tokens where `needed` are needed (amounts as words)."""

    def __init__(self, holder: str, held: str, needed: str) -> None:
        super().__init__(f"{holder} holds {held} tokens, {needed} are needed")


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


class RosterError(NothingSent):
    """A roster with bad rows: every problem, with row numbers, at once."""

    def __init__(self, path: str, errors: list[RowError]) -> None:
        self.path, self.errors = path, errors
        self.reason = f"{path}: {len(errors)} bad row(s)"
        lines = "\n".join(f"  {path}: {error}" for error in errors)
        ItgenError.__init__(self, f"{self.reason}; {self.suffix}\n{lines}")


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


class Cancelled(NothingSent):
    """The person running the command said no (or could not be asked and gave no --yes)."""

    def __init__(self, question: str) -> None:
        super().__init__(f"not confirmed ({question!r})")


class AdminError(NothingSent):
    """An admin change the escrow would refuse, or one that would change nothing."""


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


class RejectedTransaction(Exception):
    """The node refused a signed transaction (not a lost connection)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class RetriesSpent(ItgenError):
    """The provider kept refusing past the retries allowed."""

    def __init__(self, what: str, tries: int, seconds: float, error: BaseException) -> None:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        super().__init__(
            f"{what}: the node kept refusing after {tries} tries over {seconds:.0f} s "
            f"({first}); nothing was lost: run the command again, or raise --retries"
        )


class RateLimited(Exception):
    """A JSON-RPC error response that is a rate limit (-32005 "limit exceeded", -32029)."""


class ExplorerError(ItgenError):
    """The explorer submission could not be made; the manual upload remains."""


class IndexerError(ItgenError):
    """The indexer cannot go on, with the reason in words."""


class IndexerRPCError(Exception):
    """A JSON-RPC error response, with its code and message in the text."""

    def __init__(self, error: Any) -> None:
        if isinstance(error, dict):
            super().__init__(f"{error.get('code')}: {error.get('message')}")
        else:
            super().__init__(str(error))


class StoreError(ItgenError):
    """An index database that cannot be opened."""
