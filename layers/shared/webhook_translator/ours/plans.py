"""A record's read of a dict by its keys' plan, as one function made for that plan.

:meth:`.record.Record._read` reads a dict whose keys name different fields (the required ones
among them) by the fields of that key tuple, in order. Those tuples are few — the key sets a
mapper sends — and each is read thousands of times, so its read is written out once as Python
source and compiled (as :mod:`dataclasses` writes ``__init__``): the values unpacked in one step,
each field's rule as straight-line code with its limits as constants — no loop, no attribute
read per field. The source holds only names made here (``v0``, ``F0``, ``S0``…) and integers;
the fields, their names and checks are bound through the function's globals, never written into
the text, so nothing a payload sends becomes code.

A compiled read decides exactly as the loop it replaces (``tests/unit/test_record_plans.py``
holds it to the key-by-key read): a plain string of a text field (or a non-blank one of a
JSON-value field) is decided inline; anything else goes to the field's check; ``None`` of an
optional field is unset; the first broken rule makes it answer None, its errors taken back (the
key-by-key read then reports every rule, in its place).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from webhook_translator.ours.checks import FAILED, Check, Errors, Field

#: a compiled plan: (the dict, the errors, the checks replacing some fields') → the values by Ours's
#: name in field order, or None once a rule is broken
Reader = Callable[[dict[str, Any], Errors, Mapping[str, Check] | None], dict[str, Any] | None]


def compile_plan(fields: tuple[Field[Any], ...], in_order: tuple[str, ...] | None, owner: str) -> Reader:
    """The read of a dict whose values are, in order, those of ``fields``; ``in_order``: Ours's names
    in field order when the keys come in another order (the values are then given in that order)."""
    bound: dict[str, Any] = {"FAILED": FAILED, "_other": _other}
    lines = ["def read(data, errors, checks):"]
    if fields:
        lines.append(f"    {''.join(f'v{i}, ' for i in range(len(fields)))}= data.values()")
    lines.append("    values = {}")
    for i, field in enumerate(fields):
        bound.update({f"F{i}": field, f"S{i}": field.sent, f"C{i}": field.check, f"N{i}": field.name})
        # in the keys' order when that is the fields'; else each kept value (never None) held in k{i}
        store = f"values[S{i}] = k" if in_order is None else f"k{i} = k"
        lines += ([] if in_order is None else [f"    k{i} = None"]) + _field_lines(i, field, store)
    if in_order is not None:  # then set in field order, the record's (and its body's)
        for i in sorted(range(len(fields)), key=lambda i: fields[i].index):
            lines += [f"    if k{i} is not None:", f"        values[S{i}] = k{i}"]
    lines.append("    return values")
    exec(compile("\n".join(lines), f"<{owner} plan>", "exec"), bound)  # noqa: S102 - our own source, above
    reader: Reader = bound["read"]
    return reader


def _field_lines(i: int, field: Field[Any], store: str) -> list[str]:
    """Field ``i``'s part of the read: its value ``v{i}`` decided, ``k`` kept by ``store``."""
    if field.text_half or field.json_text:
        inline = f"0 < len(k := v{i}.strip()) <= {int(field.text_half)}" if field.text_half else f"(k := v{i}).strip()"
        return [
            f"    if type(v{i}) is str and {inline}:",
            f"        {store}",
            f"    elif (k := _other(F{i}, v{i}, errors, checks)) is FAILED:",
            "        return None",
            "    elif k is not None:",
            f"        {store}",
        ]
    head = [f"    if v{i} is not None:"] if field.none_unset else ["    if True:"]
    return [
        *head,
        "        mark = len(errors)",
        f"        k = (C{i} if checks is None else checks.get(N{i}, C{i}))(v{i}, S{i}, errors)",
        "        if k is FAILED:",
        "            del errors[mark:]",
        "            return None",
        "        if k is not None:",
        f"            {store}",
    ]


def _other(field: Field[Any], value: Any, errors: Errors, checks: Mapping[str, Check] | None) -> Any:
    """A text or JSON-value field's value the inline test did not decide: ``None`` unset (an optional
    field), else its check's answer (:data:`FAILED` with its errors taken back)."""
    if value is None and field.none_unset:
        return None
    mark = len(errors)
    kept = (field.check if checks is None else checks.get(field.name, field.check))(value, field.sent, errors)
    if kept is FAILED:
        del errors[mark:]
    return kept
