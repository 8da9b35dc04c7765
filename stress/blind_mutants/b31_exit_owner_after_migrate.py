DESCRIPTION = ("mm_update_next_owner() calls lru_gen_migrate_mm(mm) before WRITE_ONCE(mm->owner, c) "
               "instead of after: the migration looks at the exiting old owner (its memcg, and "
               "lockdep_assert_held(&mm->owner->alloc_lock) on a lock nobody holds), so the mm "
               "stays on the old memcg's list while its new owner lives elsewhere (seed exit.c "
               "hunk order; commit message 'follows its owner task').")
PATCHES = {
    "mm_update_next_owner": [
        ("        WRITE_ONCE(mm, \"owner\", c)\n", ""),
        ("        mm_list.lru_gen_migrate_mm(mm)\n",
         "        mm_list.lru_gen_migrate_mm(mm)\n        WRITE_ONCE(mm, \"owner\", c)\n"),
    ],
}
