"""Errors that are the user's input, not mmlist's bug: the command turns each into one line on
stderr and exit status 2. Kept in a module of their own so that the command can catch them
without importing the model."""
from __future__ import annotations


class SetupError(Exception):
    """A scenario's set-up cannot complete: it takes a lock it already holds, waits for a
    wake-up no other thread can give, releases a lock it does not hold, or returns holding a
    lock. Set-up runs on one real thread with real locks, where each of these would hang or
    corrupt the run; the message names the scenario and the model function (typically a
    variant's bug in a function that set-up calls)."""


#: Set by the command's SIGINT/SIGTERM handler before it raises ``KeyboardInterrupt``: tells a
#: real Ctrl-C from a ``KeyboardInterrupt`` that model (variant) code raised itself.
signalled = False
