"""`ape run programs` in the repository: the same command as `ape itgen programs`."""

from itgen_chain._cli.programs import cli  # noqa: F401
