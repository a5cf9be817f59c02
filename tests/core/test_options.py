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
