"""Mutant: test_bloom_filter() looks in the filter of seq + 1: the walkers consult the filter
their own iteration is filling, not the one the previous iteration filled

A one-line change to ``test_bloom_filter()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("test_bloom_filter(): gen = filter_gen_from_seq(seq + 1): the double buffering is "
               "broken, the walkers of the iteration for max_seq test the filter being filled "
               "for max_seq + 1")
EXPECTED_CHECK = 'bloom_double_buffer'
SCENARIO = 'kthread-use-mm'
NEEDS_INTERLEAVING = False

PATCHES = {
    'test_bloom_filter': [
        ('    gen = filter_gen_from_seq(seq)\n\n    filt = READ_ONCE(lv.mm_state.filters, gen)\n'
         '    if filt is None:\n        cover("test_bloom_filter:no-filter")',
         '    gen = filter_gen_from_seq(seq + 1)  # MUTANT: was filter_gen_from_seq(seq)\n\n'
         '    filt = READ_ONCE(lv.mm_state.filters, gen)\n'
         '    if filt is None:\n        cover("test_bloom_filter:no-filter")'),
    ],
}
