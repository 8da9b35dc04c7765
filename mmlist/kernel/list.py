"""``include/linux/list.h``: a circular doubly linked list with a sentinel.

``head``/``tail`` cursors of ``lru_gen_mm_state`` point at ``ListHead`` nodes, exactly as the C
points at ``struct list_head``. ``next``/``prev`` are tracked fields protected by the lock of the
list the node is on; the accesses the C marks (``WRITE_ONCE(prev->next, ...)`` in ``__list_add``,
``__list_del`` and ``INIT_LIST_HEAD``; ``READ_ONCE(head->next)`` in ``list_empty``) are marked
here too, as in 5.16's ``include/linux/list.h``.
"""
from __future__ import annotations

from typing import Any

from .fields import READ_ONCE, WRITE_ONCE, tracked


class ListHead:
    """``struct list_head``. ``container`` is what ``list_entry`` returns (the C's container_of)."""

    next = tracked()
    prev = tracked()

    def __init__(self, container: Any = None, label: str = "list_head"):
        self.container = container
        self.label = label
        # INIT_LIST_HEAD on a private object: no recorded access.
        self.__dict__["_next"] = self
        self.__dict__["_prev"] = self

    def __repr__(self) -> str:
        return f"<{self.label}>"


def LIST_HEAD_INIT(container: Any = None, label: str = "list_head") -> ListHead:
    return ListHead(container, label)


def INIT_LIST_HEAD(entry: ListHead) -> None:
    WRITE_ONCE(entry, "next", entry)
    entry.prev = entry


def __list_add(new: ListHead, prev: ListHead, next: ListHead) -> None:
    next.prev = new
    new.next = next
    new.prev = prev
    WRITE_ONCE(prev, "next", new)


def list_add_tail(new: ListHead, head: ListHead) -> None:
    __list_add(new, head.prev, head)


def __list_del(prev: ListHead, next: ListHead) -> None:
    next.prev = prev
    WRITE_ONCE(prev, "next", next)


def list_del_init(entry: ListHead) -> None:
    __list_del(entry.prev, entry.next)
    INIT_LIST_HEAD(entry)


def list_empty(head: ListHead) -> bool:
    """``list_empty()``: ``READ_ONCE(head->next) == head``, the marked read by which the seed
    tests an mm's membership without the list's lock."""
    return READ_ONCE(head, "next") is head


def list_entry(ptr: ListHead, type_: Any = None, member: str = "") -> Any:
    """``list_entry(ptr, type, member)``: the object embedding ``ptr``. In the C, container_of()
    on a list_head that is not in a ``type`` (a cursor left on another list's sentinel) yields a
    wild pointer; the model reports it as the oops it would be."""
    container = ptr.container
    if type_ is not None and not isinstance(container, type_):
        from .bug import wild_pointer
        wild_pointer(f"list_entry({ptr.label}, {type_.__name__}, {member})",
                     f"{ptr.label} is not embedded in a {type_.__name__}")
    return container


def raw_iter(head: ListHead, limit: int = 1 << 16):
    """Walk ``head`` without recording accesses (checkers and snapshots only)."""
    node = head.__dict__["_next"]
    n = 0
    while node is not head and n < limit:
        yield node
        node = node.__dict__["_next"]
        n += 1
