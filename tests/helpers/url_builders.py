"""URL builders compiled once per test process, not once per test app.

Werkzeug turns every URL rule into a small Python function for `url_for`, built
from an abstract syntax tree and compiled, when the rule is added to an app. The
suite creates an app for every test (so each starts with its own settings, caches
and limits), and this compilation was the largest part of that: most of the time
`create_app` takes. The function depends only on the rule's text, its parsed
parts, its defaults and its converters, and holds no state (Werkzeug binds it to
the rule afterwards), so rules that are the same in every app can share one.

`remember_url_builders()` wraps `Rule._compile_builder` for the test process.
Should a Werkzeug release rename it, the wrapper is left out and everything works
as before, only slower.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from werkzeug.routing import Rule


def _key(rule: Rule, append_unknown: bool) -> tuple:
    """Everything the compiled builder depends on."""
    defaults = rule.defaults or {}
    return (
        type(rule),
        rule.rule,
        append_unknown,
        tuple(rule._trace),
        repr(sorted(defaults.items(), key=lambda item: item[0])),
        # A converter's arguments are in the rule's text; its class comes from the app.
        tuple((name, type(converter)) for name, converter in sorted(rule._converters.items())),
    )


def remember_url_builders() -> None:
    """Compile each distinct URL builder once per process (see the module)."""
    original: Callable | None = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "remembers", False):
        return
    built: dict[tuple, Callable] = {}

    @functools.wraps(original)
    def compile_builder(self: Rule, append_unknown: bool = True) -> Callable:
        try:
            key = _key(self, append_unknown)
            hash(key)
        except (AttributeError, TypeError):  # unhashable defaults: compile as usual
            return original(self, append_unknown)
        function = built.get(key)
        if function is None:
            function = built[key] = original(self, append_unknown)
        return function

    compile_builder.remembers = True  # type: ignore[attr-defined]
    Rule._compile_builder = compile_builder  # type: ignore[method-assign]
