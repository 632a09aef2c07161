"""`ape run rescue` in the repository: the same command as `ape itgen rescue`."""

from itgen_chain._cli.rescue import cli  # noqa: F401
