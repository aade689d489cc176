"""Command-line interface: ``trimatte matte``, ``eval``, ``train``, ``edit``.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``; :mod:`trimatte.cli.main` wires them together.
"""

__all__ = ["main"]
