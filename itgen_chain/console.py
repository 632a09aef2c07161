"""How a job talks to the person running it, passed in as callables: the CLI gives click's
echo, confirm and progress bar; a Python caller gives its own, or runs silent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from itgen_chain.exceptions import Cancelled

Echo = Callable[[str], None]
Confirm = Callable[[str], bool]
# progress(total, label) is a context manager giving advance(n).
Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]


def quiet(line: str) -> None:
    """An echo that says nothing."""


@contextmanager
def no_progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar that shows nothing."""
    yield lambda steps: None


def ask(question: str, yes: bool, confirm: Confirm | None) -> None:
    """Goes on when `yes`, or when `confirm(question)` agrees; otherwise raises Cancelled.
    With no way to ask (confirm is None) and no `yes`, nothing moves."""
    if yes:
        return
    if confirm is None or not confirm(question):
        raise Cancelled(question)
