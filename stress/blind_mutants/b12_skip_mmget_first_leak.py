DESCRIPTION = ("should_skip_mm() takes mmget_not_zero() first and then returns true for "
               "unused/small/OOM-victim mms without mmput(): a reference leaks for every skipped mm, "
               "so the mm's last user never triggers __mmput -> lru_gen_del_mm (protocol.md 4: a "
               "walker holds a reference on every mm it walks until it hands it back; seed: "
               "mmget_not_zero is the last test).")
PATCHES = {
    "should_skip_mm": [
        ("    if not mmget_not_zero(mm):\n", "    if False:\n"),
        ("    if (not walk.full_scan and",
         "    if not mmget_not_zero(mm):\n"
         "        rt.trace(\"skip\", mm=mm, lruvec=walk.lruvec, reason=\"mm_users==0\")\n"
         "        return True\n\n"
         "    if (not walk.full_scan and"),
    ],
}
