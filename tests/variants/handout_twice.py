"""Mutant: get_next_mm() does not advance mm_state->head past the mm at which it finds
mm_state->tail (the first mm added since the last iteration), so the next call hands the same
mm out again in the same iteration, although it never left the list

``handout_once`` must report it with ``details["re_added"] == False`` (no ``del`` and ``add`` of
the mm in between: not the seed's accepted duplicate walk).

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``, applied to the model's
current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("get_next_mm() leaves head on the mm where it finds tail: that mm is handed out "
               "twice in one iteration without leaving the list")
EXPECTED_CHECK = "handout_once"
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "get_next_mm": [
        ("""            mm_state.head = mm_state.head.next

            # full scan""",
         """            if mm_state.tail is not mm.lru_gen.list:  # MUTANT: was unconditional
                mm_state.head = mm_state.head.next

            # full scan"""),
    ],
}
