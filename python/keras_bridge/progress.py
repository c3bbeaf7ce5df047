"""Progress reporting: a callable that takes one line, or nothing at all."""
from __future__ import annotations

import sys
from typing import Callable, Optional

Progress = Optional[Callable[[str], None]]


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def emit(progress: Progress, line: str) -> None:
    if progress is not None:
        progress(line)
