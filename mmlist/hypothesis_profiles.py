"""Hypothesis settings profiles for mmlist's property tests: ``ci``, ``dev`` and ``hunt``.

The pytest plugin (``mmlist.pytest_plugin``) registers them at configure time and loads the one
named by ``MMLIST_HYPOTHESIS_PROFILE`` (default: ``ci`` when the ``CI`` environment variable is
set, else ``dev``; ``none`` loads nothing). Without pytest::

    from mmlist import hypothesis_profiles
    hypothesis_profiles.load()              # the same choice, from the environment

* ``ci``: few examples (the whole suite stays within minutes on a shared runner),
  ``derandomize=True`` (the same examples on every run: a red CI run is red again locally) and
  no example database: a CI machine is thrown away after the run, and a derandomized run needs
  none to find its failure again; ``print_blob=True`` prints the ``@reproduce_failure`` line
  that replays the exact failing example anywhere.
* ``dev``: Hypothesis' usual 100 examples, random, with the default directory database
  (``.hypothesis/examples``): a failure found once is tried first on the next run.
* ``hunt``: many examples (2000) for a long search, with the database.

Every profile has ``deadline=None`` (a model execution's time depends on its interleaving and on
the load of the machine, not on the code under test) and suppresses the ``too_slow`` health
check (drawing a schedule is cheap; running the model is what takes the time).
"""
from __future__ import annotations

import os

#: the environment variable that names the profile
ENV = "MMLIST_HYPOTHESIS_PROFILE"
PROFILES = ("ci", "dev", "hunt")
#: values of ``ENV`` that register the profiles but load none
NONE = ("none", "off", "")

_MAX_EXAMPLES = {"ci": 20, "dev": 100, "hunt": 2000}


def register() -> None:
    """Register the three profiles with Hypothesis (idempotent)."""
    from hypothesis import HealthCheck, settings
    common = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("ci", max_examples=_MAX_EXAMPLES["ci"], derandomize=True,
                              database=None, **common)
    settings.register_profile("dev", max_examples=_MAX_EXAMPLES["dev"], **common)
    settings.register_profile("hunt", max_examples=_MAX_EXAMPLES["hunt"], **common)


def selected(environ: dict[str, str] | None = None) -> str | None:
    """The profile the environment asks for: ``MMLIST_HYPOTHESIS_PROFILE`` when set (None for
    ``none``), else ``ci`` under ``CI``, else ``dev``. An unknown name is a ``ValueError``
    naming the known ones."""
    env = os.environ if environ is None else environ
    name = env.get(ENV)
    if name is None:
        return "ci" if env.get("CI") else "dev"
    name = name.strip().lower()
    if name in NONE:
        return None
    if name not in PROFILES:
        raise ValueError(f"{ENV}={env.get(ENV)!r}: unknown profile (known: "
                         f"{', '.join(PROFILES)}, or none)")
    return name


def explicitly_selected(environ: dict[str, str] | None = None) -> bool:
    """Whether ``MMLIST_HYPOTHESIS_PROFILE`` names a profile (rather than the default)."""
    env = os.environ if environ is None else environ
    return env.get(ENV) is not None


def load(environ: dict[str, str] | None = None, force: bool = True) -> str | None:
    """Register the profiles and load the selected one; returns its name (None: none loaded).

    ``force=False`` (the plugin's default choice) leaves alone a profile the project already
    loaded itself (in its conftest.py, before the plugin configures): only Hypothesis'
    ``default`` profile is replaced. A name set in ``MMLIST_HYPOTHESIS_PROFILE`` is always
    loaded."""
    from hypothesis import settings
    register()
    name = selected(environ)
    if name is None:
        return None
    if not force and not explicitly_selected(environ) and _current() not in (None, "default"):
        return None
    settings.load_profile(name)
    return name


def _current() -> str | None:
    """The name of the loaded profile (Hypothesis keeps it in a private attribute: None when a
    version without it gives no way to tell)."""
    from hypothesis import settings
    return getattr(settings, "_current_profile", None)
