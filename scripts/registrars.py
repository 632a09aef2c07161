"""`ape run registrars` in the repository: the same command as `ape itgen registrars`."""

from itgen_chain._cli.registrars import cli  # noqa: F401
