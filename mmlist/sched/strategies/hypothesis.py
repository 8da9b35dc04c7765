"""Hypothesis as the decision source: every decision is a ``data.draw``, so Hypothesis owns
generation, its example database and shrinking (the pattern of ``hypothesis.stateful``).

    from hypothesis import given, strategies as st
    from mmlist import interleave

    @given(st.data())
    def test_walkers(data):
        ex = interleave.run_scenario("walkers", data)
        assert not ex.violations, ex.violations

**Where the draws happen.** The controller asks its decision source on the model thread that
reached the scheduling point (``Controller._decide``). Hypothesis cannot draw there: its
build context (``hypothesis.control._current_build_context``) is a ``threading.local``, and
``DataObject.draw`` calls ``should_note()``, which raises ``InvalidArgument("Cannot make notes
outside of a test")`` on any thread but the test's (hypothesis 6.170, the version installed
here; drawing on the test's thread is right with every version, whatever its thread-locals).
``tests/test_interleave.py::test_drawing_on_another_thread_is_refused`` shows it. So every
draw is made on the thread that owns ``data``, the test's own thread:

* ``drive(run)`` runs ``run`` (one controlled execution) on a short-lived *driver* thread, and
  turns the test's thread into the draw server until ``run`` returns;
* ``pick``/``choose``, called on a model thread (or on the driver, for the first decision),
  post ``(n, label)`` to the server and park until it answers; exactly one model thread runs
  at a time, so there is at most one request outstanding and one answer slot suffices.

The extra cost is one thread round trip per *drawn* decision (a decision with one option is
never drawn). The other strategies are untouched: only this source pays.

An exception while drawing (Hypothesis' ``StopTest`` when a shrunk example runs out of
choices, a ``KeyboardInterrupt``) must reach Hypothesis on the test's thread, not crash a
model thread: the server stops drawing, answers ``None`` to every further request (the
controller then ends the execution as "pruned" and unwinds its threads), waits for the driver,
and re-raises.

**Encodings** (``encoding=``). Either way the runnable threads are ordered "the thread that
just ran first, then the others cyclically after it", and index 0 (the value Hypothesis shrinks
integers toward) means *no preemption*:

* ``"gaps"`` (the default): a few draws per execution. ``integers(0, max_gap)`` says after how
  many more decisions with a choice the next switch happens (0: no switch ever again), then,
  at that decision, ``integers(0, k)`` which other thread runs; every other decision keeps the
  running thread (or, if it cannot run on, takes the next one cyclically). Shrinking a gap to
  0 removes every later switch at once, so the shrunk schedule has as few preemptions as the
  failure allows; and with a handful of choices per example Hypothesis shrinks in tens of runs.
  Measured on ``exit-head`` under the ``del-head-restarts`` mutant: generating and shrinking
  took 21 runs (under a second) down to 3 draws and 1 preemption. ``max_gap`` trades the
  preemptions per generated example against their spread (8, 20, 64 were tried on nine
  interleaving mutants; 20 found the most of them within 30 examples).
* ``"steps"``: one ``integers(0, k)`` at *every* decision with a choice (the plainest map of
  the schedule; roughly one draw per step). It finds some mutants in fewer examples (more
  preemptions per example) but shrinks slowly: the same test took 2,594 runs (138 s, explain
  phase included) and kept 4 preemptions.

``max_preemptions``: once that many preemptions were taken, the running thread keeps running
without a draw (the bound of CHESS's iterative context bounding, Musuvathi & Qadeer, PLDI
2007).
"""
from __future__ import annotations

import _thread
import queue
import threading
from typing import Any, Callable, TypeVar

from . import Strategy

T = TypeVar("T")
#: how thread decisions are drawn (see the module doc)
ENCODINGS = ("gaps", "steps")
#: "gaps": the longest run of decisions between two switches that one draw can ask for
DEFAULT_MAX_GAP = 20
_DONE = object()            # the driver's last message: the execution is over


class HypothesisSourceError(RuntimeError):
    """The source was asked for a decision on a thread it cannot draw on."""


class HypothesisSource(Strategy):
    """Decisions drawn from Hypothesis' ``data`` (``st.data()``), on the thread that created
    the source (the test's); run executions through ``drive`` (``mmlist.interleave`` does)."""

    name = "hypothesis"

    def __init__(self, data: Any, *, max_preemptions: int | None = None,
                 encoding: str = "gaps", max_gap: int | None = None):
        from hypothesis import strategies as st
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r} (known: {', '.join(ENCODINGS)})")
        self.data = data
        self.st = st
        self.max_preemptions = max_preemptions
        self.encoding = encoding
        self.max_gap = DEFAULT_MAX_GAP if max_gap is None else max_gap
        if self.max_gap < 1:
            raise ValueError(f"max_gap must be >= 1, got {self.max_gap}")
        #: "gaps": decisions with a choice left before the next switch (-1: never again;
        #: None: not drawn yet)
        self._countdown: int | None = None
        #: the thread that owns ``data``: every draw happens on it
        self.owner = threading.get_ident()
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._answered = _thread.allocate_lock()
        self._answered.acquire()            # released once per answer
        self._answer: int | None = None
        self._serving = False
        #: the server stopped drawing (an exception is on its way up): answers are None
        self._closed = False
        #: values drawn so far (every decision with more than one option)
        self.draws = 0

    # --- the decision interface ----------------------------------------------------------
    def new_execution(self) -> bool:
        self._countdown = None
        return True

    def pick(self, runnable: list[int], state: Any) -> int | None:
        if len(runnable) == 1:
            return runnable[0]
        cur = state.current
        if (self.max_preemptions is not None and cur in runnable
                and state.preemptions >= self.max_preemptions):
            return cur
        options = ordered_options(runnable, cur, state.nthreads)
        if self.encoding == "steps":
            i = self._ask(len(options), lambda: _pick_label(options, cur, state))
            return None if i is None else options[i]
        return self._pick_gaps(options, cur, state)

    def _pick_gaps(self, options: list[int], cur: int | None, state: Any) -> int | None:
        """The "gaps" encoding: ``options[0]`` (no preemption) unless the countdown to the
        next switch ends here; then draw which other thread, and the next countdown."""
        if self._countdown is None:         # the first decision with a choice
            if not self._next_gap(state):
                return None
        if self._countdown != 0:
            if self._countdown > 0:
                self._countdown -= 1
            return options[0]
        others = options[1:]
        i = self._ask(len(others), lambda: _pick_label(others, cur, state, switch=True))
        if i is None or not self._next_gap(state):
            return None
        return others[i]

    def _next_gap(self, state: Any) -> bool:
        """Draw how many decisions with a choice run on before the next switch: 0 means
        none ever again (the value Hypothesis shrinks toward), ``g`` switch at the ``g``-th
        from now. False: the server gave up (the execution ends)."""
        g = self._ask(self.max_gap + 1,
                      lambda: f"step {state.steps}: switch after how many (0: never)")
        if g is None:
            return False
        self._countdown = -1 if g == 0 else g - 1
        return True

    def choose(self, n: int, state: Any) -> int | None:
        if n == 1:
            return 0
        who = state.names()[state.current] if state.current is not None else "?"
        return self._ask(n, lambda: f"CHOOSE of {who} among {n}")

    # --- running an execution with the draws on this thread --------------------------------
    def drive(self, run: Callable[[], T]) -> T:
        """``run()`` (one controlled execution, e.g. ``Session.run`` or ``Controller.run``)
        on a driver thread, while this thread answers the decisions; returns what ``run``
        returns, or raises what ``run`` or a draw raised (a draw's exception first)."""
        if threading.get_ident() != self.owner:
            raise HypothesisSourceError("HypothesisSource.drive() must be called on the thread "
                                        "that created the source (the test's)")
        if self._serving:
            raise HypothesisSourceError("HypothesisSource.drive() is not reentrant")
        result: dict[str, Any] = {}

        def driver() -> None:
            try:
                result["value"] = run()
            except BaseException as e:      # handed to the test's thread below
                result["error"] = e
            finally:
                self._requests.put(_DONE)

        self._closed = False
        self._countdown = None
        self._serving = True
        t = threading.Thread(target=driver, name="mmlist-hypothesis-driver", daemon=True)
        try:
            t.start()
            failure = self._serve()
        finally:
            self._serving = False
        t.join()
        if failure is not None:
            raise failure
        if "error" in result:
            raise result["error"]
        return result["value"]

    def _serve(self) -> BaseException | None:
        """Answer requests until the driver is done; the first exception met (a draw's, or a
        ``KeyboardInterrupt`` while waiting) is returned, and every later request is
        answered ``None`` so that the execution ends and its threads unwind."""
        failure: BaseException | None = None
        while True:
            try:
                req = self._requests.get()
            except BaseException as e:      # Ctrl-C while a model thread runs
                failure = failure or e
                self._closed = True
                continue
            if req is _DONE:
                return failure
            n, label = req
            answer: int | None = None
            if not self._closed:
                try:
                    answer = self._draw(n, label)
                except BaseException as e:  # StopTest, Frozen, KeyboardInterrupt...
                    failure = e
                    self._closed = True
            self._answer = answer
            self._answered.release()

    def _ask(self, n: int, label: Callable[[], str]) -> int | None:
        """One decision among ``n``, drawn by the server on the owner's thread."""
        if not self._serving:
            # Not driven: the execution runs on the owner's thread (sched.run_once, a bare
            # Controller.run), and every later decision would come from a model thread, where
            # Hypothesis cannot draw. Refuse at the first decision, loudly, on the caller's
            # thread (the controller unwinds the execution; its threads never ran).
            raise HypothesisSourceError(
                "HypothesisSource must run its executions through drive(): Hypothesis can "
                "only draw on the test's thread, and the controller asks on model threads. "
                "Use mmlist.interleave.run_scenario / run_batch, or source.drive(lambda: "
                "session.run(...))")
        if self._closed:
            return None
        self._requests.put((n, label))
        self._answered.acquire()
        return self._answer

    def _draw(self, n: int, label: Callable[[], str]) -> int:
        self.draws += 1
        return self.data.draw(self.st.integers(0, n - 1), label=label())


def ordered_options(runnable: list[int], cur: int | None, nthreads: int) -> list[int]:
    """The runnable threads, the one that just ran (``cur``) first if it can run on, then the
    others cyclically after it: index 0 is "no preemption" (or, when ``cur`` cannot run on,
    the next thread after it), the value Hypothesis shrinks toward."""
    start = 0 if cur is None else cur
    return sorted(runnable, key=lambda t: (t - start) % max(nthreads, 1))


def _pick_label(options: list[int], cur: int | None, state: Any, switch: bool = False) -> str:
    """What the draw means, printed with a failing example (``Draw 7 (...): 1``)."""
    names = state.names()
    alts = ", ".join(f"{i}={names[t]}" for i, t in enumerate(options))
    who = names[cur] if cur is not None else "nobody"
    return f"step {state.steps}, {who} ran, {'switch to' if switch else 'next'}: {alts}"
