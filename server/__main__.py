"""`python -m server` is the `turnos` command."""

from server.cli import run

run()
