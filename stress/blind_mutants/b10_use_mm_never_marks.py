DESCRIPTION = ("lru_gen_use_mm() tests nodes_full() with the wrong sense (sets the nodes only when "
               "they are already full): after a walker cleared its node bit, switching to the mm "
               "never marks it used again, so a process that ran since the last iteration (and "
               "has since been switched out) is skipped as 'unused' (mm_types.h: nodes 'Set when "
               "switching to this mm_struct'; commit message optimization 1).")
PATCHES = {
    "lru_gen_use_mm": [
        ("not nodes_full(mm.lru_gen.nodes)", "nodes_full(mm.lru_gen.nodes)"),
    ],
}
