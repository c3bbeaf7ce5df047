"""Progress reporting: a callable that takes one line, or nothing at all."""
from __future__ import annotations

import sys
from typing import Callable, Optional

Progress = Optional[Callable[[str], None]]


def to_stderr(line: str) -> None:
    """One line, escaped and bounded: progress lines name layers, which a model file names."""
    from .echo import bounded_message

    print(bounded_message(line), file=sys.stderr, flush=True)


def emit(progress: Progress, line: str) -> None:
    if progress is not None:
        progress(line)
