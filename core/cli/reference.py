"""docs/cli.md, generated from the parser itself so the reference cannot drift from the commands:
`python -m core.cli.reference > docs/cli.md` (a test fails when the file is stale)."""
from __future__ import annotations

import os
from unittest import mock

from core.cli import GROUPS, parser

WIDTH = "110"  # columns argparse wraps the help at, whatever the terminal that generates it
INTRO = """# Command line reference

Generated from the parser (`python -m core.cli.reference > docs/cli.md`); do not edit by hand.
`python -m core COMMAND --help` (or `inferscope COMMAND --help` after `pip install -e .`) prints the same.
Every settings flag is generated from its typed config, the same fields the dashboard's forms show.

Exit status: 0 done, 1 the job failed (its error is the last line of stderr), 2 bad input, 3 no such id,
4 the store is unavailable, 130 cancelled.
"""


def reference() -> str:
    """The whole command line as Markdown: each command's one-line summary, then its full `--help`."""
    with mock.patch.dict(os.environ, {"COLUMNS": WIDTH}):
        top = parser()
        commands = top._subparsers._group_actions[0]  # argparse keeps its subcommands here, and only here
        summaries = {action.dest: action.help for action in commands._choices_actions}
        parts = [INTRO, "## Commands\n"]
        for group in GROUPS:
            names = [name for name in commands.choices if commands.choices[name]._defaults["func"].__module__
                     == group.__name__]
            parts.append(f"- {group.TITLE}: " + ", ".join(f"[`{name}`](#{name})" for name in names))
        for name, sub in commands.choices.items():
            parts.append(f"\n## {name}\n\n{summaries.get(name) or ''}\n\n```text\n{sub.format_help().rstrip()}\n```")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
