"""`python -m core ...`: everything the UI can do, headless. One module per group of commands; each adds its
commands to the parser (`add_commands`), and `docs/cli.md` is generated from this parser."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.cli import diagnose, explore, machines, measure, runs
from core.cli.output import EXIT_CANCELLED, exit_code
from core.errors import InferScopeError

GROUPS = (runs, measure, explore, diagnose, machines)  # in the order `python -m core --help` lists them


def parser() -> argparse.ArgumentParser:
    """The command line; every settings flag is generated from its config's `option()` fields."""
    top = argparse.ArgumentParser(prog="python -m core", description="InferScope: measure speed vs accuracy.")
    sub = top.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = f"python -m core {args.command}"
    args.role = f"the worker ({command})" if args.command == "worker" else f"the command `{command}`"
    try:
        return args.func(args)
    except InferScopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED



def run() -> None:
    """The `inferscope` command (pyproject.toml): `python -m core` under its own name."""
    sys.exit(main())


__all__ = ["main", "parser", "exit_code", "run"]
