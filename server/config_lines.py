"""Find the source line of a key in config.toml, for error messages.

tomllib returns plain dicts without positions, so semantic errors are located by scanning the
text: find the table header for the key path (e.g. the 4th ``[[counters]]``), then the
``key =`` line inside that table. This is a heuristic for humans, not a TOML parser: it falls
back to the header line, or to None when nothing matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# `[csa]`, `[rules.preferential]`, `[[counters]]`, with an optional trailing comment.
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(?:#.*)?$")


def _header_name(raw: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in raw.split("."))


def _headers(lines: Sequence[str]) -> list[tuple[int, tuple[str, ...], bool]]:
    """(0-based line index, dotted name, is array-of-tables) for every table header."""
    found = []
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match:
            found.append((index, _header_name(match.group(2)), match.group(1) == "[["))
    return found


def _find_table(
    headers: list[tuple[int, tuple[str, ...], bool]], path: Sequence[str | int]
) -> tuple[int | None, int]:
    """Header index (into `headers`) of the deepest table on `path`, and segments consumed."""
    best: tuple[int | None, int] = (None, 0)
    names: list[str] = []
    position = 0
    while position < len(path) and isinstance(path[position], str):
        names.append(str(path[position]))
        name = tuple(names)
        position += 1
        following = path[position] if position < len(path) else None
        if isinstance(following, int):
            arrays = [i for i, (_, n, is_array) in enumerate(headers) if is_array and n == name]
            if following < len(arrays):
                best = (arrays[following], position + 1)
            position += 1
            continue
        tables = [i for i, (_, n, is_array) in enumerate(headers) if not is_array and n == name]
        if tables:
            best = (tables[0], position)
    return best


def _key_line(lines: Sequence[str], start: int, stop: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=.]")
    for index in range(start, stop):
        if pattern.match(lines[index]):
            return index
    return None


def locate(text: str, path: Sequence[str | int]) -> int | None:
    """1-based line of the key at `path` (e.g. ``("counters", 3, "services", 1)``), or None."""
    lines = text.splitlines()
    headers = _headers(lines)
    header, consumed = _find_table(headers, path)
    if header is None:
        start, stop, fallback = 0, headers[0][0] if headers else len(lines), None
    else:
        start = headers[header][0] + 1
        stop = headers[header + 1][0] if header + 1 < len(headers) else len(lines)
        fallback = headers[header][0]
    key = next((seg for seg in path[consumed:] if isinstance(seg, str)), None)
    found = _key_line(lines, start, stop, key) if key is not None else None
    index = found if found is not None else fallback
    return None if index is None else index + 1
