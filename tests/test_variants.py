"""Variants: loading, patching every model module that holds the original, restoring."""
from __future__ import annotations

import pytest

from mmlist.model import aging, mm_list
from mmlist.variants import list_mutants, list_variants, load_variant

SEED_FUNCTIONS = {"lru_gen_add_mm", "lru_gen_del_mm", "lru_gen_migrate_mm", "get_next_mm",
                  "should_skip_mm", "reset_mm_stats"}


def test_builtin_fixes_are_listed():
    names = {v.name for v in list_variants()}
    assert {"fix-migrate-before-add", "fix-exec-add-after-irq-enable",
            "fix-nowalk-seq"} <= names
    assert all(v.description and v.expected_check is None for v in list_variants())


def test_mutants_are_listed_with_their_attributes():
    ms = list_mutants()
    assert len(ms) >= 12
    for m in ms:
        assert m.description and m.expected_check and m.scenario
        assert isinstance(m.needs_interleaving, bool)
        assert "# MUTANT:" in m.path.read_text()


def test_mutants_cover_every_function_of_the_seed_and_callers():
    replaced = set()
    for m in list_mutants():
        replaced |= set(load_variant(m.name).replacements)
    assert SEED_FUNCTIONS <= replaced
    assert {"kernel_clone", "__mmput", "try_to_inc_max_seq", "mm_update_next_owner"} <= replaced


def test_applied_patches_every_module_holding_the_original_and_restores():
    orig = mm_list.get_next_mm
    assert aging.get_next_mm is orig
    v = load_variant("no-nr-walkers-dec")
    with v.applied():
        assert mm_list.get_next_mm is v.replacements["get_next_mm"]
        assert aging.get_next_mm is v.replacements["get_next_mm"]
    assert mm_list.get_next_mm is orig and aging.get_next_mm is orig


def test_names_with_underscores_work_too():
    assert load_variant("fix_nowalk_seq").name == "fix-nowalk-seq"


def test_loading_from_a_file(tmp_path):
    p = tmp_path / "my_variant.py"
    p.write_text("DESCRIPTION = 'mine'\n\ndef lru_gen_use_mm(mm):\n    pass\n\n"
                 "def _helper():\n    pass\n")
    v = load_variant(str(p))
    assert v.name == "my-variant" and set(v.replacements) == {"lru_gen_use_mm"}
    from mmlist.model import exec as exec_, mm_types, sched
    with v.applied():
        assert mm_types.lru_gen_use_mm is sched.lru_gen_use_mm is exec_.lru_gen_use_mm
        assert mm_types.lru_gen_use_mm is v.replacements["lru_gen_use_mm"]
    assert mm_types.lru_gen_use_mm.__module__ == "mmlist.model.mm_types"


def test_unknown_function_names_are_an_error(tmp_path):
    p = tmp_path / "bad.py"
    p.write_text("DESCRIPTION = 'x'\n\ndef lru_gen_frobnicate(mm):\n    pass\n")
    with pytest.raises(ValueError, match="lru_gen_frobnicate.*not a function of the model"):
        load_variant(str(p))


def test_description_is_required(tmp_path):
    p = tmp_path / "nodesc.py"
    p.write_text("def lru_gen_use_mm(mm):\n    pass\n")
    with pytest.raises(ValueError, match="DESCRIPTION"):
        load_variant(str(p))


def test_unknown_builtin_is_an_error():
    with pytest.raises(ValueError, match="unknown variant"):
        load_variant("no-such-variant")


def test_a_mutant_must_name_a_builtin_scenario(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("DESCRIPTION = 'x'\nEXPECTED_CHECK = 'seq'\nSCENARIO = 'nope'\n"
                 "NEEDS_INTERLEAVING = False\n\ndef lru_gen_use_mm(mm):\n    pass\n")
    with pytest.raises(ValueError, match="SCENARIO"):
        load_variant(str(p))


def test_a_patch_that_no_longer_matches_the_model_is_refused(tmp_path):
    """PATCHES are applied to the model's current source: a stale one is a clear error."""
    from mmlist.variants import load_variant
    p = tmp_path / "stale_patch.py"
    p.write_text('DESCRIPTION = "a stale patch"\n'
                 'PATCHES = {"get_next_mm": [("    this line is not in the model", "pass")]}\n')
    with pytest.raises(ValueError, match="update the patch"):
        load_variant(str(p))


def test_a_patch_rebuilds_the_function_from_the_current_model_source(tmp_path):
    import inspect

    from mmlist.model import mm_list
    from mmlist.variants import load_variant
    p = tmp_path / "tiny_patch.py"
    p.write_text('DESCRIPTION = "no tail move"\n'
                 'PATCHES = {"lru_gen_add_mm": [("            lv.mm_state.tail = '
                 'lv.mm_state.tail.prev", "            pass  # MUTANT")]}\n')
    v = load_variant(str(p))
    fn = v.replacements["lru_gen_add_mm"]
    assert fn.__globals__ is mm_list.lru_gen_add_mm.__globals__     # compiled in the model
    with v.applied():
        assert mm_list.lru_gen_add_mm is fn
    assert mm_list.lru_gen_add_mm is not fn
    assert "lv.mm_state.tail = lv.mm_state.tail.prev" in inspect.getsource(mm_list.lru_gen_add_mm)
