"""What the hall display says when it calls a ticket, in Spanish as people say it aloud.

"A-042" at "Ventanilla 12" becomes "Turno A cero cuarenta y dos, pase a la ventanilla doce".

How a ticket number is read (the rule a person reading the printed number follows):
- the letters are said one by one ("A", "L N");
- every leading zero of the printed digits is said as "cero", then the rest as one number:
  "A-042" → "A cero cuarenta y dos", "A-007" → "A cero cero siete", "A-100" → "A cien",
  "A-1000" → "A mil". People read the digits that are printed, so a number never loses the
  zeros the citizen sees on the paper, and "cero cuarenta y dos" cannot be heard as 42.

Counter names: a leading noun Spanish speakers use for a counter is said with its article
("Ventanilla 12" → "la ventanilla doce", "Módulo 3B" → "el módulo tres B"); numbers inside
names are said in words and letters stuck to them are spelled ("3B" → "tres B"); any other
word is kept as written.
"""

from __future__ import annotations

import re

_UNITS = (
    "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
    "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho",
    "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro",
    "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve",
)
_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta",
         8: "ochenta", 9: "noventa"}
_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos",
             5: "quinientos", 6: "seiscientos", 7: "setecientos", 8: "ochocientos",
             9: "novecientos"}
LARGEST = 999_999

# Words for a counter, with their article. Lowercased when they open a counter's name.
COUNTER_NOUNS = {
    "ventanilla": "la", "caja": "la", "mesa": "la", "taquilla": "la", "oficina": "la",
    "sala": "la", "puerta": "la", "módulo": "el", "modulo": "el", "escritorio": "el",
    "cubículo": "el", "cubiculo": "el", "mostrador": "el", "consultorio": "el", "box": "el",
}

_TICKET = re.compile(r"^([A-Z]{1,2})-(\d{1,6})$")
_NUMBER_WITH_LETTERS = re.compile(r"^(\d{1,6})([A-Za-z]{0,2})$")


def number_words(n: int) -> str:
    """0 to 999,999 in words, as a number on its own is said: 21 "veintiuno", 100 "cien"."""
    if not 0 <= n <= LARGEST:
        raise ValueError(f"numbers are spoken from 0 to {LARGEST}, not {n}")
    if n < 1000:
        return _below_thousand(n)
    thousands, rest = divmod(n, 1000)
    # "mil", "dos mil", "veintiún mil": uno before mil is shortened.
    head = "mil" if thousands == 1 else f"{_apocope(_below_thousand(thousands))} mil"
    return head if rest == 0 else f"{head} {_below_thousand(rest)}"


def _below_thousand(n: int) -> str:
    if n < 30:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] if unit == 0 else f"{_TENS[tens]} y {_UNITS[unit]}"
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    return _HUNDREDS[hundreds] if rest == 0 else f"{_HUNDREDS[hundreds]} {_below_thousand(rest)}"


def _apocope(words: str) -> str:
    """uno → un before a noun-like word ("veintiún mil", "treinta y un mil")."""
    if words.endswith("veintiuno"):
        return words[: -len("veintiuno")] + "veintiún"
    if words.endswith("uno"):
        return words[: -len("uno")] + "un"
    return words


def digits_words(digits: str) -> str:
    """Printed digits as read aloud: each leading zero "cero", then the rest as a number."""
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"not digits: {digits!r}")
    stripped = digits.lstrip("0")
    if not stripped:
        return " ".join(["cero"] * len(digits))
    zeros = ["cero"] * (len(digits) - len(stripped))
    return " ".join([*zeros, number_words(int(stripped))])


def ticket_words(number: str) -> str:
    """"A-042" → "A cero cuarenta y dos"; "LN-007" → "L N cero cero siete"."""
    match = _TICKET.match(number)
    if match is None:
        raise ValueError(f"not a ticket number: {number!r}")
    letters, digits = match.groups()
    return f"{' '.join(letters)} {digits_words(digits)}"


def counter_words(name: str) -> str:
    """"Ventanilla 12" → "la ventanilla doce"; "Módulo 3B" → "el módulo tres B"."""
    words = name.split()
    if not words:
        raise ValueError("a counter needs a name to be announced")
    spoken = [_counter_word(word) for word in words]
    article = COUNTER_NOUNS.get(words[0].lower())
    if article is not None:
        spoken[0] = words[0].lower()
        spoken.insert(0, article)
    return " ".join(spoken)


def _counter_word(word: str) -> str:
    match = _NUMBER_WITH_LETTERS.match(word)
    if match is None:
        return word
    digits, letters = match.groups()
    # Inside a name, a number is said as a number: "Ventanilla 07" is "ventanilla siete".
    spoken = number_words(int(digits))
    return f"{spoken} {' '.join(letters.upper())}" if letters else spoken


def call_sentence(ticket_number: str, counter_name: str) -> str:
    """The announcement of a call or recall: "Turno A cero cuarenta y dos, pase a la
    ventanilla doce" ("a" + "el" contracts: "pase al módulo tres B")."""
    place = counter_words(counter_name)
    where = f"al {place[3:]}" if place.startswith("el ") else f"a {place}"
    return f"Turno {ticket_words(ticket_number)}, pase {where}"
