"""Check Stripe JSON against the fields and types stripe-python declares for each object.

stripe-python is generated from Stripe's OpenAPI spec for the pinned API version: every
resource class (``stripe.Customer``, ``stripe.checkout.Session``...) and its nested
classes (``Invoice.Parent.SubscriptionDetails``) annotate each field with its type. A
``ShapeChecker`` walks a JSON object alongside those annotations and records every
field the class does not declare and every value of the wrong type, so the emulator
cannot drift into shapes that only it produces. It also remembers which declared
fields it has seen filled, per class, for the coverage report.
"""

import ast
import decimal
import functools
import importlib
import inspect
import json
import sys
import types
import typing
from dataclasses import dataclass, field

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject, UntypedStripeObject


def class_for(object_name: str) -> type | None:
    """The stripe-python class for an ``object`` value such as ``"checkout.session"``."""
    found = OBJECT_CLASSES.get(object_name)
    if found is None:
        return None
    module, name = found
    return getattr(importlib.import_module(module), name)


@functools.cache
def _namespace(module_name: str) -> dict:
    """The module's globals plus the names it imports only for type checkers.

    Resource modules import the classes their annotations name (``"PaymentMethod"``)
    inside ``if TYPE_CHECKING:``, so the forward references resolve only once those
    imports have been run.
    """
    module = sys.modules[module_name]
    namespace = dict(vars(module))
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            imports = [n for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom))]
            code = compile(ast.Module(body=imports, type_ignores=[]), module_name, "exec")
            exec(code, namespace)
    return namespace


@functools.cache
def declared_fields(cls: type) -> dict[str, object]:
    """Field name -> resolved type annotation, for ``cls`` and its StripeObject bases."""
    fields: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, StripeObject) or klass is StripeObject:
            continue
        own = inspect.get_annotations(klass)
        namespace = _namespace(klass.__module__)
        hints = typing.get_type_hints(
            types.SimpleNamespace(__annotations__=own), namespace, dict(vars(klass))
        )
        for name, hint in hints.items():
            if not name.startswith("_") and typing.get_origin(hint) is not typing.ClassVar:
                fields[name] = hint
    object_name = getattr(cls, "OBJECT_NAME", None)
    if "object" not in fields and isinstance(object_name, str):
        # ListObject names its ``object`` value only in the OBJECT_NAME class constant.
        fields["object"] = typing.Literal[object_name]
    return fields


def _class_name(cls: type) -> str:
    """``Invoice.Parent``, or ``checkout.Session`` for classes in a sub-package."""
    package = [p for p in cls.__module__.split(".")[1:] if not p.startswith("_")]
    return ".".join([*package, cls.__qualname__])


def _is_optional(hint) -> bool:
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


def _is_decimal(text: str) -> bool:
    try:
        return decimal.Decimal(text).is_finite()
    except decimal.InvalidOperation:
        return False


def _get(value, key: str):
    return value.get(key) if isinstance(value, dict) else None


def _describe(value) -> str:
    if isinstance(value, dict):
        return f"object {value.get('object', '')}".rstrip()
    return f"{type(value).__name__} {value!r}"[:80]


_SCALARS = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}


@dataclass
class Coverage:
    """Declared fields of one class and those the checked objects filled in."""

    declared: dict[str, object]
    seen: set[str] = field(default_factory=set)

    def required_missing(self) -> list[str]:
        """Declared non-Optional fields never seen."""
        return sorted(
            name
            for name, hint in self.declared.items()
            if name not in self.seen and not _is_optional(hint)
        )


class ShapeChecker:
    """Checks objects against stripe-python's declarations; keeps coverage across calls."""

    def __init__(self):
        self.coverage: dict[str, Coverage] = {}
        # True while trying the alternatives of a Union: nothing counts as seen then.
        self._trying = False

    def check(self, obj, cls: type | None = None) -> list[str]:
        """Problems found in ``obj`` (a dict or StripeObject), checked as ``cls``.

        ``cls`` defaults to the class named by the object's ``object`` field.
        """
        data = obj
        if isinstance(obj, StripeObject):
            # The JSON as sent: ``to_dict()`` would already have turned decimals into Decimal.
            response = obj.last_response
            data = json.loads(response.body) if response is not None else obj.to_dict()
            if type(obj) is not class_for(data.get("object", "")):
                return [f"$: stripe-python built a {type(obj).__name__} from {_describe(data)}"]
        cls = cls or class_for(data.get("object", ""))
        if cls is None:
            return [f"$: no stripe-python class for object {data.get('object')!r}"]
        problems: list[str] = []
        self._object(data, cls, data.get("object", cls.__name__), problems)
        return problems

    def assert_valid(self, obj, cls: type | None = None) -> None:
        """Fail with every problem found, one per line."""
        problems = self.check(obj, cls)
        assert not problems, "Stripe shape problems:\n" + "\n".join(problems)

    def _object(self, data, cls, path: str, problems: list[str], partial=False, item_type=None):
        if not isinstance(data, dict):
            problems.append(f"{path}: expected {cls.__qualname__}, got {_describe(data)}")
            return
        declared = declared_fields(cls)
        counted = not (partial or self._trying)
        if counted:
            coverage = self.coverage.setdefault(_class_name(cls), Coverage(declared))
        for key, value in data.items():
            if key not in declared:
                problems.append(f"{path}.{key}: not declared on {cls.__qualname__}")
                continue
            if counted:
                coverage.seen.add(key)
            self._value(value, declared[key], f"{path}.{key}", problems)
        if cls is stripe.Event and isinstance(data.get("data"), dict):
            self._event_data(data["data"], f"{path}.data", problems)
        if cls is ListObject and isinstance(data.get("data"), list):
            for i, item in enumerate(data["data"]):
                # An answered list says nothing of its items' type: each names its own.
                item_cls = item_type or class_for(_get(item, "object"))
                if item_cls is None:
                    problems.append(f"{path}.data[{i}]: no stripe-python class for it")
                else:
                    self._value(item, item_cls, f"{path}.data[{i}]", problems)

    def _event_data(self, data: dict, path: str, problems: list[str]) -> None:
        """An event's object is typed loosely; check it (and its previous values) as itself."""
        obj = data.get("object")
        cls = class_for(obj.get("object", "")) if isinstance(obj, dict) else None
        if cls is None:
            problems.append(f"{path}.object: no stripe-python class for {_describe(obj)}")
            return
        self._object(obj, cls, f"{path}.object", problems)
        if isinstance(data.get("previous_attributes"), dict):
            previous = data["previous_attributes"]
            self._object(previous, cls, f"{path}.previous_attributes", problems, partial=True)

    def _value(self, value, hint, path: str, problems: list[str]) -> None:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is typing.Any or isinstance(hint, typing.TypeVar):
            return  # a TypeVar is ListObject's item type, checked by the caller
        if value is None and origin is not typing.Union:
            problems.append(f"{path}: null, but the field is not Optional")
        elif origin is typing.Union:
            self._union(value, args, path, problems)
        elif origin is typing.Literal:
            if not any(value == a and type(value) is type(a) for a in args):
                problems.append(f"{path}: {_describe(value)} is not one of {list(args)}")
        elif hint is decimal.Decimal:
            # Sent as a string ("1000.5"); stripe-python turns it into a Decimal.
            if not isinstance(value, str) or not _is_decimal(value):
                problems.append(f"{path}: expected a decimal string, got {_describe(value)}")
        elif hint in _SCALARS:
            ok = isinstance(value, _SCALARS[hint]) and (hint is bool or type(value) is not bool)
            if not ok:
                problems.append(f"{path}: expected {hint.__name__}, got {_describe(value)}")
        elif origin is list:
            if not isinstance(value, list):
                problems.append(f"{path}: expected a list, got {_describe(value)}")
                return
            for i, item in enumerate(value):
                self._value(item, args[0], f"{path}[{i}]", problems)
        elif origin in (dict, UntypedStripeObject):
            if not isinstance(value, dict):
                problems.append(f"{path}: expected a hash, got {_describe(value)}")
                return
            for key, item in value.items():
                self._value(item, args[-1], f"{path}.{key}", problems)
        elif origin is ListObject:
            self._object(value, ListObject, path, problems, item_type=args[0])
        elif isinstance(hint, type) and issubclass(hint, StripeObject):
            self._object(value, hint, path, problems)
        else:
            problems.append(f"{path}: the checker does not know the annotation {hint!r}")

    def _union(self, value, args, path: str, problems: list[str]) -> None:
        if value is None:
            if type(None) not in args:
                problems.append(f"{path}: null, but the field is not Optional")
            return
        literals = [a for a in args if typing.get_origin(a) is typing.Literal]
        if str in args and literals and isinstance(value, str):
            # An open enum (``Union[Literal[...], str]``): ``str`` is there for values a
            # newer API version may add, so a value outside the list is still a mistake.
            allowed = [v for lit in literals for v in typing.get_args(lit)]
            if value not in allowed:
                problems.append(f"{path}: {value!r} is not one of {allowed}")
            return
        attempts = []
        for arg in (a for a in args if a is not type(None)):
            found: list[str] = []
            trying, self._trying = self._trying, True
            self._value(value, arg, path, found)
            self._trying = trying
            if not found:
                self._value(value, arg, path, problems)  # again, counting coverage
                return
            attempts.append(found)
        # Report the closest alternative: one that took the value's kind (an object for an
        # object), with the fewest problems.
        took_kind = [a for a in attempts if not any(p.startswith(f"{path}: ") for p in a)]
        problems.extend(min(took_kind or attempts, key=len))

    def report(self) -> list[str]:
        """Coverage lines, one per class: filled/declared, and required fields never seen."""
        lines = []
        for name, cov in sorted(self.coverage.items()):
            filled = len(cov.seen & cov.declared.keys())
            share = 100 * filled // max(len(cov.declared), 1)
            line = f"{name:<64} {filled:>3}/{len(cov.declared):<3} {share:>3}%"
            missing = cov.required_missing()
            if missing:
                line += "  required, never sent: " + ", ".join(missing)
            lines.append(line)
        return lines
