"""`ape run claims` in the repository: the same command as `ape itgen claims`."""

from itgen_chain._cli.claims import cli  # noqa: F401
