"""Mutant: lru_gen_del_mm() moves head back to the first mm of the list instead of on to the
next one: the mms already handed out in this iteration are handed out again

A one-line change to ``lru_gen_del_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("lru_gen_del_mm(): head = mm_list->fifo.next instead of head->next when the mm "
               "it unlinks is where the iteration stands: the iteration restarts from the first "
               "mm and hands out again the mms it already handed out")
EXPECTED_CHECK = 'handout_once'
SCENARIO = 'exit-head'
NEEDS_INTERLEAVING = True

PATCHES = {
    'lru_gen_del_mm': [
        ('        lv.mm_state.head = lv.mm_state.head.next\n',
         '        lv.mm_state.head = mm_list.fifo.next  # MUTANT: was head->next\n'),
    ],
}
