"""The ``cpnkit`` command line (Typer + rich)."""
