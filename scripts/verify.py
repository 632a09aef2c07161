"""`ape run verify` in the repository: the same command as `ape itgen verify`."""

from itgen_chain._cli.verify import cli  # noqa: F401
