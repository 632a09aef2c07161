"""The documents keep up with the code: README's command table names every command there
is, every relative link resolves, and troubleshooting lists every error a user can see."""

from __future__ import annotations

import re
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[str]:
    found: set[str] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= commands(command, (*prefix, name))
        else:
            found.add(" ".join((*prefix, name)))
    return found


def test_the_command_table_names_every_command_and_only_those():
    from itgen_chain._cli import cli

    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([a-z ]+)`", row.split("|")[1])}
    assert named == commands(cli)


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def test_troubleshooting_lists_every_revert_and_every_error():
    from itgen_chain import exceptions
    from itgen_chain.reverts import WORDS

    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    errors = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type)
        and issubclass(value, exceptions.ItgenError)
        and value.__module__ == exceptions.__name__
    }
    missing = [name for name in sorted(set(WORDS) | errors) if f"`{name}`" not in page]
    assert missing == []
