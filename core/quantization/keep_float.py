"""The nodes a quantizer is asked to keep in float (`keep_float`): node names, glob patterns over names and the
module paths nodes were exported from, or a named group of a transformer's nodes — resolved against the graph
before any calibration, an entry that matches nothing refused."""
from __future__ import annotations

import ast
import re
from fnmatch import fnmatchcase

from core.errors import InferScopeError

KEEP_FLOAT_HELP = ("nodes to keep in float, separated by /: node names, glob patterns over names and module paths "
                   "(*attention*), or a group: @attention, @ffn (quantize only the other)")

# Named groups of a transformer's nodes for `keep_float`, by the module path a node was exported from (its name
# with the torchscript exporter, its name scope with the dynamo one): BERT/MiniLM/RoBERTa and DistilBERT layouts.
NODE_GROUPS = {
    "@attention": re.compile(r"attention"),
    "@ffn": re.compile(r"intermediate|layer[./]\d+[./]output[./]|\bffn\b"),
}
PATTERN_CHARACTERS = set("*?[")


def node_scope(node) -> str:
    """The module path a node came from: the innermost module of the name scopes the dynamo exporter records (its
    last entry names the operation itself), else the node's name (the TorchScript exporter's names are paths)."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return node.name
            return scopes[-2] if isinstance(scopes, list) and len(scopes) >= 2 and scopes[-2] else node.name
    return node.name


def kept_nodes(step: str, wanted: tuple[str, ...] | None, graph) -> tuple[str, ...]:
    """A step's `keep_float` as node names of `graph`: each entry is a node's name, a glob pattern matched against
    node names and the module paths they came from (`*attention*`), or a named group (`@attention`, `@ffn`).
    An entry that matches nothing is refused with some real names."""
    if not wanted:
        return ()
    scopes = {node.name: node_scope(node) for node in graph.node}
    kept, unknown = [], []
    for entry in wanted:
        if entry in NODE_GROUPS:
            hits = [n for n, scope in scopes.items() if NODE_GROUPS[entry].search(scope)]
        elif PATTERN_CHARACTERS & set(entry):
            hits = [n for n, scope in scopes.items() if fnmatchcase(n, entry) or fnmatchcase(scope, entry)]
        else:
            hits = [entry] if entry in scopes else []
        kept.extend(hits) if hits else unknown.append(entry)
    if unknown:
        raise InferScopeError(f"{step}: keep_float {', '.join(unknown)} matches no node; give node names, glob "
                              f"patterns (*attention*) or a group ({', '.join(NODE_GROUPS)}); some node names: "
                              f"{', '.join(sorted(scopes)[:8])}")
    return tuple(dict.fromkeys(kept))


def kept_words(wanted: tuple[str, ...] | None, kept: tuple[str, ...]) -> str:
    """', kept in float: …' for a step's note: the names when given as names, else the entries and the count."""
    if not kept:
        return ""
    if tuple(wanted or ()) == kept:
        return f", kept in float: {', '.join(kept)}"
    return f", kept in float: {len(kept)} node(s) for {', '.join(wanted or ())}"
