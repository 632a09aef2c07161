"""`ape run close` in the repository: the same command as `ape itgen close`."""

from itgen_chain._cli.close import cli  # noqa: F401
