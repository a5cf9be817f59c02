from dataclasses import dataclass

import pytest

from core.errors import InferScopeError
from core.options import describe, option, parse_key_values, parse_options


@dataclass(frozen=True)
class Example:
    size: int = option(10, "a size", minimum=1, maximum=100)
    ratio: float = option(0.5, "a ratio", minimum=0.0, maximum=1.0)
    flag: bool = option(True, "a flag")
    mode: str = option("a", "a mode", choices=("a", "b"))
    limit: int | None = option(None, "optional")
    mean: tuple[float, ...] | None = option(None, "values")


def test_parses_and_coerces_strings():
    cfg = parse_options(Example, {"size": "7", "ratio": "0.25", "flag": "false", "mode": "b", "limit": "3",
                                  "mean": "0.1/0.2"}, what="x")
    assert cfg == Example(7, 0.25, False, "b", 3, (0.1, 0.2))


@pytest.mark.parametrize("values, message", [
    ({"nope": 1}, "has no option 'nope'; valid options: size, ratio"),
    ({"size": "0"}, "must be at least 1"),
    ({"size": "1000"}, "must be at most 100"),
    ({"size": "ten"}, "takes a whole number"),
    ({"flag": "maybe"}, "takes true or false"),
    ({"mode": "c"}, "must be one of a, b"),
])
def test_bad_values_explain_themselves(values, message):
    with pytest.raises(InferScopeError, match=message):
        parse_options(Example, values, what="x")


def test_key_values_and_describe():
    assert parse_key_values("a=1, b=two", what="t") == {"a": "1", "b": "two"}
    with pytest.raises(InferScopeError, match="expected key=value"):
        parse_key_values("a", what="t")
    fields = {f["name"]: f for f in describe(Example)}
    assert fields["mode"]["choices"] == ["a", "b"] and fields["size"]["help"] == "a size"


def test_flags_come_from_the_fields_with_their_defaults_types_and_choices():
    import argparse

    from core.options import add_arguments, given

    @dataclass(frozen=True)
    class Demo:
        rate_hz: float = option(2.5, "how often")
        count: int | None = option(None, "how many", minimum=1)
        mode: str = option("fast", "which way", choices=("fast", "slow"))
        strict: bool = option(False, "refuse more")

    parser = argparse.ArgumentParser(exit_on_error=False)
    add_arguments(parser, Demo, aliases={"rate_hz": "--rate"})
    text = parser.format_help()
    assert "--rate-hz RATE_HZ, --rate RATE_HZ" in text and "how often (default 2.5)" in text
    assert "{fast,slow}" in text and "--strict, --no-strict" in text
    args = parser.parse_args(["--rate", "4", "--count", "3", "--no-strict"])
    assert given(args, Demo) == {"rate_hz": 4.0, "count": 3, "strict": False}
    assert given(parser.parse_args([]), Demo) == {}  # unset flags keep the config's own defaults
    with pytest.raises(argparse.ArgumentError, match="takes a finite number"):
        parser.parse_args(["--rate-hz", "nan"])


@pytest.mark.parametrize("command", ["run", "explore", "curve"])
def test_every_settings_field_has_its_flag(command):
    """The CLI and the forms read one definition: a field added to a settings config gets its flag."""
    import dataclasses

    from core.api import SETTINGS
    from core.cli import parser
    from core.options import flag_name

    forms = {"run": ("runtime", "timing"), "explore": ("explore", "timing"), "curve": ("curve",)}[command]
    sub = next(a for a in parser()._subparsers._group_actions[0].choices.items() if a[0] == command)[1]
    flags = {flag for action in sub._actions for flag in action.option_strings}
    for form in forms:
        for field in dataclasses.fields(SETTINGS[form]):
            assert flag_name(field.name) in flags, (command, field.name)
