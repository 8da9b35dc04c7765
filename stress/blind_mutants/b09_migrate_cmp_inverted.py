DESCRIPTION = ("lru_gen_migrate_mm() has its early return inverted (returns when the owner's memcg "
               "differs from mm->lru_gen.memcg): a migrated mm never leaves the old memcg's list, "
               "and an owner change within the same memcg requeues it needlessly (commit message: "
               "'an mm_struct follows its owner task to the new memcg'; protocol.md 4: "
               "mm->lru_gen.memcg names the memcg whose list holds it, and should be the owner's).")
PATCHES = {
    "lru_gen_migrate_mm": [
        ("    if memcg is mm.lru_gen.memcg:\n", "    if memcg is not mm.lru_gen.memcg:\n"),
    ],
}
