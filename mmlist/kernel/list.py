"""``include/linux/list.h``: a circular doubly linked list with a sentinel.

``head``/``tail`` cursors of ``lru_gen_mm_state`` point at ``ListHead`` nodes, exactly as the C
points at ``struct list_head``. ``next``/``prev`` are tracked fields: plain accesses, protected by
the lock of the list the node is on.
"""
from __future__ import annotations

from typing import Any

from .fields import tracked


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
    entry.next = entry
    entry.prev = entry


def __list_add(new: ListHead, prev: ListHead, next: ListHead) -> None:
    next.prev = new
    new.next = next
    new.prev = prev
    prev.next = new


def list_add_tail(new: ListHead, head: ListHead) -> None:
    __list_add(new, head.prev, head)


def list_del_init(entry: ListHead) -> None:
    prev, next = entry.prev, entry.next
    next.prev = prev
    prev.next = next
    INIT_LIST_HEAD(entry)


def list_empty(head: ListHead) -> bool:
    # The C reads head->next with READ_ONCE; the model records it as a plain read of `next`
    # because list_empty() on a node is how the seed tests membership, racily by design.
    return head.next is head


def list_entry(ptr: ListHead, type_: Any = None, member: str = "") -> Any:
    """``list_entry(ptr, type, member)``: the object embedding ``ptr``."""
    return ptr.container


def raw_iter(head: ListHead, limit: int = 1 << 16):
    """Walk ``head`` without recording accesses (checkers and snapshots only)."""
    node = head.__dict__["_next"]
    n = 0
    while node is not head and n < limit:
        yield node
        node = node.__dict__["_next"]
        n += 1
