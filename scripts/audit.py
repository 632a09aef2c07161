"""`ape run audit` in the repository: the same command as `ape itgen audit`."""

from itgen_chain._cli.audit import cli  # noqa: F401
