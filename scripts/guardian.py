"""`ape run guardian` in the repository: the same command as `ape itgen guardian`."""

from itgen_chain._cli.guardian import cli  # noqa: F401
