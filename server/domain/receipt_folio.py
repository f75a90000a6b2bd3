"""Receipt folios: unique, unguessable, and typable by hand.

A folio is 80 random bits written as 16 Crockford base32 characters in four groups
("R7K2-9QXM-4TPD-H3WN"). Crockford's alphabet has no I, L, O or U, so what a citizen reads
off paper cannot be mistyped into another valid folio by those look-alikes: reading an O as 0
or an I/L as 1 is forgiven when the folio is typed back. 80 bits make guessing hopeless even
for someone trying millions of folios (a receipt shows times, outcome and the procedure folio).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 4
GROUP_LENGTH = 4
LENGTH = GROUPS * GROUP_LENGTH + GROUPS - 1  # with the dashes: 19
PATTERN = "^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$"

_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_folio() -> str:
    """A fresh random folio, such as R7K2-9QXM-4TPD-H3WN."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(chars[i:i + GROUP_LENGTH] for i in range(0, len(chars), GROUP_LENGTH))


def normalize_folio(text: str) -> str | None:
    """The canonical folio a person meant ("r7k2 9qxm-4tpd h3wn" -> "R7K2-9QXM-4TPD-H3WN"),
    or None when `text` cannot be one."""
    if len(text) > 64:
        return None
    compact = _SEPARATORS.sub("", text).upper().translate(_LOOK_ALIKES)
    if len(compact) != GROUPS * GROUP_LENGTH or any(c not in ALPHABET for c in compact):
        return None
    return "-".join(compact[i:i + GROUP_LENGTH] for i in range(0, len(compact), GROUP_LENGTH))
