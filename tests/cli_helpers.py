"""Running the ``mmlist`` command in-process, for the tests of its options."""
from __future__ import annotations

import contextlib
import io

from mmlist.cli import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``mmlist.cli.main(argv)`` with stdout and stderr captured: (exit code, out, err)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
