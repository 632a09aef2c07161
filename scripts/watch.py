"""`ape run watch` in the repository: the same command as `ape itgen watch`."""

from itgen_chain._cli.watch import cli  # noqa: F401
