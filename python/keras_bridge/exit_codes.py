"""The exit codes, from the one table the Node CLI reads too (schemas/exit-codes.json, src/exit-codes.ts).

Names live in code, numbers only in the table: EXIT["input_error"] is 2, EXIT["internal_error"] 70.
"""
from __future__ import annotations

import json
from pathlib import Path

EXIT_CODES_FILE = Path(__file__).resolve().parent / "schemas" / "exit-codes.json"
NAMES = ("ok", "parity_failure", "input_error", "parity_incomplete", "internal_error", "interrupted_by_sigint", "interrupted_by_sigterm")


def read_table(path: Path = EXIT_CODES_FILE) -> dict:
    """{name: {"code", "meaning"}}; ValueError naming the file when it lacks a name or repeats a code."""
    codes = json.loads(path.read_text(encoding="utf-8"))["codes"]
    if sorted(codes) != sorted(NAMES) or len({entry["code"] for entry in codes.values()}) != len(codes):
        raise ValueError(f"{path}: expected the exit codes {', '.join(NAMES)}, each its own number")
    return codes


TABLE = read_table()
EXIT = {name: entry["code"] for name, entry in TABLE.items()}


def interrupted(signal_name: str) -> int:
    """The code for an export stopped by SIGINT or SIGTERM (the shell's 128 + signal number)."""
    return EXIT[f"interrupted_by_{signal_name.lower()}"]


def help_text() -> str:
    return "Exit codes: " + ", ".join(f"{entry['code']} {name.replace('_', ' ')}" for name, entry in TABLE.items() if "parity" not in name) + "."


__all__ = ["EXIT", "EXIT_CODES_FILE", "NAMES", "TABLE", "help_text", "interrupted"]
