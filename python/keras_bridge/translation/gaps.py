"""A construct the translator cannot turn into TypeScript, with the Python line it comes from."""
from __future__ import annotations

import ast


class TranslationGap(Exception):
    """Raised where a construct has no translation; the class writer records it and goes on."""

    def __init__(self, node: ast.AST | None, why: str, secondary: bool = False):
        super().__init__(why)
        self.node = node
        self.why = why
        # Caused by an earlier gap (a name it left undefined): not reported again.
        self.secondary = secondary


def gap_record(gap: TranslationGap, source_lines: list, first_line: int, file: str | None) -> dict:
    """{file, line, code, why}: `line` in the file, `code` the Python line quoted."""
    lineno = getattr(gap.node, "lineno", None)
    record = {"why": gap.why}
    if lineno is not None:
        text = source_lines[lineno - 1].strip() if 0 < lineno <= len(source_lines) else ""
        record.update({"line": first_line + lineno - 1, "code": text})
    if file is not None:
        record["file"] = file
    return record
