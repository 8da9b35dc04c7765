"""Variants and mutants of the model: a Python module whose top-level functions, named like
model functions, replace them for the duration of ``applied()``.

    from mmlist.variants import load_variant
    v = load_variant("fix-nowalk-seq")          # a built-in name, or a path to a .py file
    with v.applied():
        world, specs = scenario.build(); ...

A variant module must define ``DESCRIPTION`` (str). Besides whole functions, it may give
``PATCHES = {"function": [(old_text, new_text), ...]}``: each model function named is rebuilt
from its *current* source with each ``old_text`` (which must occur exactly once) replaced, and
compiled in its own module, so a one-line change never goes stale when the model evolves; the
module's private ``_helpers`` are visible to patched code while the variant is applied. A
*mutant* (a deliberately broken model function, the change marked ``# MUTANT:``) also defines ``EXPECTED_CHECK`` (the check that
should catch it), ``SCENARIO`` (a built-in scenario that exhibits it) and ``NEEDS_INTERLEAVING``
(True when no sequential run of the scenario shows it). A function whose name starts with ``_``
and names no model function is a private helper and replaces nothing; any other top-level
function must name a model function (``__mmput`` does), or loading fails.

Built-ins live in ``mmlist/variants/builtin/`` (fixes) and ``mmlist/variants/mutants/``; a
built-in's name is its file name with ``_`` spelled ``-``.

Patching is process-wide: apply one variant at a time per process (nesting distinct variants
works, restoring in reverse order).
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..model import MODEL_MODULES

_HERE = Path(__file__).parent
BUILTIN_DIR = _HERE / "builtin"
MUTANTS_DIR = _HERE / "mutants"


#: the names of the variants applied right now (innermost last): a crash of the model while one
#: is applied is the variant's, not mmlist's
ACTIVE: list[str] = []


def _model_modules() -> list[types.ModuleType]:
    return [importlib.import_module(f"mmlist.model.{m}") for m in MODEL_MODULES]


def _originals(name: str) -> Any:
    """The model function called ``name``: the one defined under that name in a model module."""
    found = []
    for mod in _model_modules():
        obj = mod.__dict__.get(name)
        if isinstance(obj, types.FunctionType) and obj.__module__.startswith("mmlist.model"):
            if obj not in found:
                found.append(obj)
    if not found:
        return None
    defined = [f for f in found if f.__name__ == name]
    return (defined or found)[0]


@dataclass
class Variant:
    name: str
    path: Path
    module: types.ModuleType
    description: str
    replacements: dict[str, Any]
    expected_check: str | None = None
    scenario: str | None = None
    needs_interleaving: bool = False
    kind: str = "variant"
    #: the variant's private ``_helpers``: visible to its patched functions while applied
    helpers: dict[str, Any] = field(default_factory=dict)
    _patched: list = field(default_factory=list, repr=False)

    @property
    def is_mutant(self) -> bool:
        return self.expected_check is not None

    @contextlib.contextmanager
    def applied(self) -> Iterator["Variant"]:
        """Patch every model module whose global of each replaced name is the original."""
        patched: list[tuple[types.ModuleType, str, Any]] = []
        added: list[tuple[types.ModuleType, str]] = []
        try:
            for fname, new in self.replacements.items():
                orig = _originals(fname)
                for mod in _model_modules():
                    if mod.__dict__.get(fname) is orig:
                        patched.append((mod, fname, orig))
                        setattr(mod, fname, new)
                home = new.__globals__
                for hname, helper in self.helpers.items():
                    if hname not in home:       # a patched function runs in its model module
                        home[hname] = helper
                        added.append((home, hname))
            ACTIVE.append(self.name)
            yield self
        finally:
            if ACTIVE and ACTIVE[-1] == self.name:
                ACTIVE.pop()
            for mod, fname, orig in reversed(patched):
                setattr(mod, fname, orig)
            for home, hname in added:
                home.pop(hname, None)


@dataclass
class VariantInfo:
    name: str
    description: str
    expected_check: str | None
    scenario: str | None
    needs_interleaving: bool
    path: Path


def _patched(variant: str, fname: str, edits: list[tuple[str, str]]) -> Any:
    """The model function ``fname`` rebuilt from its current source with ``edits`` applied."""
    orig = _originals(fname)
    if orig is None:
        raise ValueError(f"variant {variant}: PATCHES names {fname}(), which is not a function "
                         f"of the model (modules {', '.join(MODEL_MODULES)})")
    src = textwrap.dedent(inspect.getsource(orig))
    for old, new in edits:
        n = src.count(old)
        if n != 1:
            raise ValueError(f"variant {variant}: {fname}(): {old.strip()!r} occurs {n} times in "
                             f"the model's current source, not once (update the patch)")
        src = src.replace(old, new)
    code = compile(src, f"<variant {variant}: {fname}>", "exec")
    _provide_kernel_names(variant, fname, code, orig.__globals__)
    ns: dict[str, Any] = {}
    exec(code, orig.__globals__, ns)
    fn = ns[fname]
    fn.__module__ = f"mmlist.variants._loaded.{variant}"
    return fn


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _provide_kernel_names(variant: str, fname: str, code: types.CodeType,
                          module_globals: dict[str, Any]) -> None:
    """A patch may use any kernel primitive (``spin_lock_irq``...) even if the model module does
    not import it: such names are added to the module from ``mmlist.kernel``. Attribute names
    (``mm_state.head``) are in ``co_names`` too, so only names that ``mmlist.kernel`` defines are
    added; an unknown global surfaces as a NameError when the patched code runs."""
    import builtins

    from .. import kernel
    for name in _global_names(code):
        if name in module_globals or hasattr(builtins, name):
            continue
        obj = getattr(kernel, name, None)
        if obj is not None and not name.startswith("_"):
            module_globals[name] = obj


def _builtin_path(name: str) -> Path | None:
    stem = name.replace("-", "_")
    for d in (BUILTIN_DIR, MUTANTS_DIR):
        p = d / f"{stem}.py"
        if p.exists():
            return p
    return None


def load_variant(name_or_path: str | Path) -> Variant:
    """Load a built-in variant or mutant by name, or a variant module from a file path."""
    text = str(name_or_path)
    path = _builtin_path(text) if not text.endswith(".py") else None
    if path is None:
        path = Path(text)
        if not path.exists():
            known = ", ".join(i.name for i in list_variants() + list_mutants())
            raise ValueError(f"unknown variant {text!r}: neither a built-in ({known}) nor a file")
    name = path.stem.replace("_", "-")
    modname = f"mmlist.variants._loaded.{path.stem}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    desc = getattr(module, "DESCRIPTION", None)
    if not isinstance(desc, str) or not desc:
        raise ValueError(f"variant {name}: {path.name} must define DESCRIPTION (a str)")
    replacements = {}
    helpers: dict[str, Any] = {}
    for fname, obj in vars(module).items():
        if isinstance(obj, types.FunctionType) and obj.__module__ == modname:
            if fname.startswith("_") and _originals(fname) is None:
                helpers[fname] = obj            # a private helper (``__mmput`` is not one)
                continue
            if _originals(fname) is None:
                raise ValueError(f"variant {name}: {fname}() is not a function of the model "
                                 f"(modules {', '.join(MODEL_MODULES)})")
            replacements[fname] = obj
    patches = getattr(module, "PATCHES", {}) or {}
    for fname, edits in patches.items():
        if fname in replacements:
            raise ValueError(f"variant {name}: {fname}() is both defined and patched")
        replacements[fname] = _patched(name, fname, edits)
    if not replacements:
        raise ValueError(f"variant {name}: {path.name} replaces no model function")
    expected = getattr(module, "EXPECTED_CHECK", None)
    scenario = getattr(module, "SCENARIO", None)
    needs = getattr(module, "NEEDS_INTERLEAVING", False)
    if expected is not None:
        from ..scenarios import BUILTIN
        if scenario not in BUILTIN:
            raise ValueError(f"mutant {name}: SCENARIO {scenario!r} is not a built-in scenario")
        if not isinstance(needs, bool):
            raise ValueError(f"mutant {name}: NEEDS_INTERLEAVING must be a bool")
    return Variant(name=name, path=path, module=module, description=desc,
                   replacements=replacements, helpers=helpers, expected_check=expected,
                   scenario=scenario,
                   needs_interleaving=bool(needs),
                   kind="mutant" if expected is not None else "variant")


def _list(d: Path) -> list[VariantInfo]:
    out = []
    for p in sorted(d.glob("*.py")):
        if p.name.startswith("_"):
            continue
        v = load_variant(p)
        out.append(VariantInfo(v.name, v.description, v.expected_check, v.scenario,
                               v.needs_interleaving, p))
    return out


def list_variants() -> list[VariantInfo]:
    """The built-in variants (the fixes), by name."""
    return _list(BUILTIN_DIR)


def list_mutants() -> list[VariantInfo]:
    """The built-in mutants, by name."""
    return _list(MUTANTS_DIR)


__all__ = ["Variant", "VariantInfo", "load_variant", "list_variants", "list_mutants"]
