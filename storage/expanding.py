"""``column IN (values)`` with the values bound as one expanding parameter.

``column.in_(values)`` coerces every value into a bound parameter of its own when the statement
is built, in Python, on every call; the engine's batches pass hundreds of ids at a time. One
expanding parameter carries the list as it is, typed by the column, and the statement's
compiled form is cached whatever the list's length.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, bindparam


def one_of(column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` (SQL's answer for no values: false)."""
    found: ColumnElement[bool] = column.in_(
        bindparam(None, list(values), expanding=True, type_=column.type)
    )
    return found
