"""Probe variant: generated mutant mm_update_next_owner:negate:24:0. The candidate search picks a
task that does not use the mm, so the exiting owner retries until the mm's other user is gone: a
busy wait that an unfair schedule never ends and a fair one does (tests/test_watchdog.py)."""
# negate in mm_update_next_owner() at mmlist/model/exit.py:38:
# -             if t is not p and not t.exited and t.mm is mm:
# +             if not (t is not p and not t.exited and t.mm is mm):

DESCRIPTION = 'generated mutant mm_update_next_owner:negate:24:0: negated `t is not p and not t.exited and t.mm ...`'
MUTANT_ID = 'mm_update_next_owner:negate:24:0'
OPERATOR = 'negate'

PATCHES = {
    'mm_update_next_owner': [
        ('            if t is not p and not t.exited and t.mm is mm:',
         '            # MUTANT: negate: negated `t is not p and not t.exited and t.mm ...`\n            if not (t is not p and not t.exited and t.mm is mm):'),
    ],
}
