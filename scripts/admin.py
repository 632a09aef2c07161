"""`ape run admin` in the repository: the same command as `ape itgen admin`."""

from itgen_chain._cli.admin import cli  # noqa: F401
