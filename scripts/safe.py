"""`ape run safe` in the repository: the same command as `ape itgen safe`."""

from itgen_chain._cli.safe import cli  # noqa: F401
