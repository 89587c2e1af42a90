"""Structured metadata filters resolved against precomputed columns instead of a per-entry walk.

A :class:`MetaFilter` is a conjunction of clauses, each clause a disjunction of :class:`Atom`\\ s,
each atom a test of one metadata field's value (``meta.get(field)``): equal to a value, one of a
set, containing an element (lists such as ``items``), containing a substring, truthy or falsy.
It is hashable, so the resolved id array is memoised per (filter, index version).

:class:`MetaPostings` keeps, per field a filter has asked about, one int32 column of value codes
aligned with the entries' slots (insertion order, like the entries dict) and the distinct values
behind the codes. Resolving an atom evaluates its test once per *distinct value* (a few dozen
teams, years or inspections), then selects the slots whose code matched with numpy; clauses are
or-ed and and-ed as boolean masks. Columns are built on a field's first use (one walk) and kept in
step on every add, remove and metadata update. Values that cannot be hashed are tested per entry,
so the result is exactly that of ``filter.accepts(meta)`` on every entry, in entry order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

OPS = ("eq", "in", "has", "substr", "truthy", "falsy")
_UNHASHABLE = -1  # the code of a value that cannot be a dict key: tested per entry


@dataclass(frozen=True)
class Atom:
    """One test of ``meta.get(field)``: ``eq`` (== arg), ``in`` (in the frozenset arg), ``has``
    (arg in (value or [])), ``substr`` (arg in (value or "")), ``truthy``, ``falsy``."""

    field: str
    op: str
    arg: object = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"未知的筛选运算：{self.op}")

    def test(self, value) -> bool:
        op, arg = self.op, self.arg
        try:
            if op == "eq":
                return bool(value == arg)
            if op == "in":
                return value in arg
            if op == "has":
                return arg in (value or [])
            if op == "substr":
                return arg in (value or "")
            if op == "truthy":
                return bool(value)
            return not value
        except TypeError:  # e.g. a number where a list or text is expected: never a match
            return False


@dataclass(frozen=True)
class MetaFilter:
    """All clauses hold; a clause holds when any of its atoms does. No clause: everything."""

    clauses: tuple[tuple[Atom, ...], ...] = ()

    def accepts(self, meta: dict) -> bool:
        return all(any(atom.test(meta.get(atom.field)) for atom in clause) for clause in self.clauses)

    def __call__(self, meta: dict) -> bool:  # usable wherever a predicate is
        return self.accepts(meta)

    def fields(self) -> set[str]:
        return {atom.field for clause in self.clauses for atom in clause}

    def and_(self, *clauses: Iterable[Atom]) -> "MetaFilter":
        return MetaFilter(self.clauses + tuple(tuple(c) for c in clauses))


class _Column:
    """Value codes of one field per slot, and the distinct values behind the codes."""

    def __init__(self, capacity: int) -> None:
        self.codes = np.full(capacity, _UNHASHABLE, dtype=np.int32)
        self.values: list = []
        self.code_of: dict = {}
        self.irregular: set[int] = set()  # slots whose value is unhashable

    def code(self, value) -> int:
        if value.__class__ is list:  # lists (items, focus) test the same as tuples with every op
            value = tuple(value)
        key = (value.__class__, value)  # 1 and True (and 1.0) hash alike but are distinct values here
        try:
            found = self.code_of.get(key)
        except TypeError:  # unhashable
            return _UNHASHABLE
        if found is None:
            found = self.code_of[key] = len(self.values)
            self.values.append(value)
        return found


class MetaPostings:
    """Slot-aligned metadata columns of a set of entries, for :meth:`resolve`."""

    MEMO = 64

    def __init__(self) -> None:
        self.slot_of: dict[int, int] = {}
        self.ids = np.zeros(0, dtype=np.int64)
        self.alive = np.zeros(0, dtype=bool)
        self.metas: list[dict | None] = []
        self.columns: dict[str, _Column] = {}
        self.size = 0  # slots used (alive or not)
        self.version = 0
        self._memo: dict[MetaFilter, tuple[int, np.ndarray]] = {}
        self._lock = threading.Lock()  # searches share the index's read side; the memo and lazy columns are ours

    def __len__(self) -> int:
        return len(self.slot_of)

    # ----- keeping in step
    def _grow(self, needed: int) -> None:
        capacity = len(self.ids)
        if needed <= capacity:
            return
        capacity = max(needed, 2 * capacity, 1024)
        self.ids = np.resize(self.ids, capacity)
        alive = np.zeros(capacity, dtype=bool)
        alive[: len(self.alive)] = self.alive
        self.alive = alive
        for column in self.columns.values():
            codes = np.full(capacity, _UNHASHABLE, dtype=np.int32)
            codes[: len(column.codes)] = column.codes
            column.codes = codes

    def _set(self, slot: int, meta: dict) -> None:
        self.metas[slot] = meta
        for field, column in self.columns.items():
            self._set_code(column, slot, meta.get(field))

    @staticmethod
    def _set_code(column: _Column, slot: int, value) -> None:
        code = column.code(value)
        column.codes[slot] = code
        if code == _UNHASHABLE:
            column.irregular.add(slot)
        else:
            column.irregular.discard(slot)

    def put(self, items: Iterable[tuple[int, dict]]) -> None:
        """Add entries or replace their metadata (an id already present keeps its place, as in a dict)."""
        items = list(items)
        with self._lock:
            self._grow(self.size + len(items))
            for identifier, meta in items:
                slot = self.slot_of.get(identifier)
                if slot is None:
                    slot = self.slot_of[identifier] = self.size
                    self.size += 1
                    self.ids[slot] = identifier
                    self.alive[slot] = True
                    self.metas.append(None)
                self._set(slot, meta)
            self.version += 1
            self._memo.clear()

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for identifier in ids:
                slot = self.slot_of.pop(int(identifier), None)
                if slot is not None:
                    self.alive[slot] = False
                    self.metas[slot] = None
                    for column in self.columns.values():
                        column.irregular.discard(slot)
            self.version += 1
            self._memo.clear()
            if self.size > 1024 and len(self.slot_of) * 2 < self.size:
                self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self.alive[: self.size])
        self.ids = self.ids[keep].copy()
        self.alive = np.ones(len(keep), dtype=bool)
        self.metas = [self.metas[s] for s in keep.tolist()]
        self.slot_of = {int(i): s for s, i in enumerate(self.ids.tolist())}
        for column in self.columns.values():
            column.codes = column.codes[keep].copy()
            column.irregular = {s for s, meta in enumerate(self.metas) if column.codes[s] == _UNHASHABLE}
        self.size = len(keep)

    def clear(self) -> None:
        with self._lock:
            self.__init__()

    # ----- resolving
    def prepare(self, fields: Iterable[str]) -> None:
        """Build the columns of these fields now (else on the first filter that reads them)."""
        with self._lock:
            for field in fields:
                self._column(field)

    def _column(self, field: str) -> _Column:
        column = self.columns.get(field)
        if column is None:  # first use of this field: one walk, then kept in step
            column = _Column(len(self.ids))
            code = column.code
            codes = [code(meta.get(field)) if meta is not None else _UNHASHABLE for meta in self.metas]
            column.codes[: self.size] = codes
            column.irregular = {s for s, c in enumerate(codes) if c == _UNHASHABLE and self.metas[s] is not None}
            self.columns[field] = column
        return column

    def _atom_mask(self, atom: Atom) -> np.ndarray:
        column = self._column(atom.field)
        codes = column.codes[: self.size]
        matching = np.array([c for c, value in enumerate(column.values) if atom.test(value)], dtype=np.int32)
        if not len(matching):
            mask = np.zeros(self.size, dtype=bool)
        elif len(matching) == 1:
            mask = codes == matching[0]
        else:
            mask = np.isin(codes, matching)
        for slot in column.irregular:
            mask[slot] = atom.test(self.metas[slot].get(atom.field))
        return mask

    def resolve(self, where: MetaFilter) -> np.ndarray:
        """The ids of the entries ``where`` accepts, in entry order (memoised per index version)."""
        with self._lock:
            memo = self._memo.get(where)
            if memo is not None and memo[0] == self.version:
                return memo[1]
            mask = self.alive[: self.size].copy()
            for clause in where.clauses:
                if not clause:
                    mask[:] = False
                    break
                either = self._atom_mask(clause[0])
                for atom in clause[1:]:
                    either |= self._atom_mask(atom)
                mask &= either
            allowed = self.ids[: self.size][mask]
            allowed.setflags(write=False)  # shared between searches
            if len(self._memo) >= self.MEMO:
                self._memo.clear()
            self._memo[where] = (self.version, allowed)
            return allowed


def predicate_ids(entries: Iterable[tuple[int, dict]], where: Callable[[dict], bool]) -> np.ndarray:
    """The per-entry walk (callers that pass a plain predicate)."""
    return np.array([i for i, meta in entries if where(meta)], dtype=np.int64)
