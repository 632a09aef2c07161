"""`ape run deploy` in the repository: the same command as `ape itgen deploy`."""

from itgen_chain._cli.deploy import cli  # noqa: F401
