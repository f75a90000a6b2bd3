"""Load and validate config.toml into the frozen objects of `server.config_types`.

Validation stops at the first problem and raises `ConfigError`, which names the key (e.g.
``counters[3].services[1]``, array indexes counted from 0) and, where it can be found, the
line in the file. Unknown keys are errors, so that typos do not silently fall back to defaults.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from server.config_lines import locate
from server.config_types import (
    Agency,
    Counter,
    CsaConfig,
    DisplayZone,
    GiveUp,
    GovernmentOrder,
    Kiosk,
    OpeningHours,
    PreferentialMode,
    PreferentialPolicyConfig,
    Printer,
    PrinterKind,
    PrintingConfig,
    QueueRules,
    ReceiptsConfig,
    SecurityConfig,
    Service,
    TransferPlacement,
)

__all__ = ["ConfigError", "load_config"]

KeyPath = tuple[str | int, ...]
E = TypeVar("E", bound=StrEnum)

LOCALES = ("es_MX", "en")
PAPER_WIDTHS_MM = (58, 80)
# Ids end up in URLs, log lines and printed tickets: keep them plain.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_HH_MM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_SYNTAX_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class ConfigError(Exception):
    """A problem in config.toml; str() reads ``config.toml:42: counters[3].services[1]: ...``."""

    def __init__(
        self, message: str, key: str = "", line: int | None = None, path: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.line = line
        self.path = path

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.path, self.line) if part is not None)
        return ": ".join(part for part in (where, self.key, self.message) if part)

    def __reduce__(self):
        return (type(self), (self.message, self.key, self.line, self.path))


class _Invalid(Exception):
    """Raised by the validators with a key path; `load_config` turns it into ConfigError."""

    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _format_key(path: KeyPath) -> str:
    """("counters", 3, "services", 1) -> "counters[3].services[1]"."""
    out = ""
    for segment in path:
        out += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return out.lstrip(".")


def load_config(path: str | os.PathLike[str]) -> CsaConfig:
    """Read, parse and validate one CSA configuration file."""
    display = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=display) from exc
    data = _parse_toml(text, display)
    try:
        return _build(data, base_dir=Path(path).resolve().parent)
    except _Invalid as exc:
        raise ConfigError(
            exc.message, key=_format_key(exc.path), line=locate(text, exc.path), path=display
        ) from None


def _parse_toml(text: str, display: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _SYNTAX_POSITION.search(message)
        if match:
            line: int | None = int(match.group(1))
            message = f"{message[: match.start()]} (column {match.group(2)})"
        else:  # "(at end of document)"
            line = max(1, len(text.splitlines()))
        raise ConfigError(f"TOML syntax error: {message}", line=line, path=display) from None


# --- reading typed values ------------------------------------------------------------------

_REQUIRED: Any = object()
_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean (true or false)",
    int: "an integer",
    list: "an array",
    dict: "a table",
    dt.date: "a date (YYYY-MM-DD, unquoted)",
}


def _is(value: Any, kind: type) -> bool:
    if kind is int and isinstance(value, bool):
        return False
    if kind is dt.date and isinstance(value, dt.datetime):
        return False
    return isinstance(value, kind)


def _describe(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if _is(value, kind):
            return name
    return {float: "a float", dt.datetime: "a date-time", dt.time: "a time"}.get(
        type(value), type(value).__name__
    )


def _expect(path: KeyPath, value: Any, kind: type) -> Any:
    if not _is(value, kind):
        raise _Invalid(path, f"expected {_TYPE_NAMES[kind]}, got {_describe(value)}")
    return value


class _Table:
    """One TOML table being validated: typed getters that know the key path for errors."""

    def __init__(self, data: dict[str, Any], path: KeyPath, allowed: Iterable[str]) -> None:
        self.data = data
        self.path = path
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise _Invalid((*path, key), f"unknown key '{key}'{suggestion}")

    def at(self, key: str) -> KeyPath:
        return (*self.path, key)

    def get(self, key: str, kind: type, default: Any = _REQUIRED) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise _Invalid(self.at(key), "this key is required but missing")
            return default
        return _expect(self.at(key), self.data[key], kind)

    def text(self, key: str, default: Any = _REQUIRED, *, max_length: int = 200) -> Any:
        value = self.get(key, str, default)
        if isinstance(value, str) and not value.strip():
            raise _Invalid(self.at(key), "must not be empty")
        if isinstance(value, str) and len(value) > max_length:
            raise _Invalid(
                self.at(key), f"is too long: {len(value)} characters, at most {max_length}"
            )
        return value

    def ident(self, key: str) -> str:
        value = self.get(key, str)
        if not _ID.match(value):
            raise _Invalid(
                self.at(key),
                f"invalid id {value!r}: use 1-32 letters, digits, '-' or '_', "
                "starting with a letter or digit",
            )
        return value

    def integer(
        self, key: str, default: Any = _REQUIRED, *, minimum: int, maximum: int | None = None
    ) -> int:
        value = self.get(key, int, default)
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise _Invalid(self.at(key), f"must be {bounds}, got {value}")
        return value

    def choice(self, key: str, enum: type[E], default: Any = _REQUIRED) -> E:
        value = self.get(key, str, default)
        try:
            return enum(value)
        except ValueError:
            options = ", ".join(repr(member.value) for member in enum)
            raise _Invalid(self.at(key), f"must be one of {options}, got {value!r}") from None

    def table(self, key: str, allowed: Iterable[str], required: bool = False) -> _Table:
        value = self.get(key, dict, _REQUIRED if required else {})
        return _Table(value, self.at(key), allowed)

    def id_list(
        self, key: str, known: Iterable[str], what: str, *, non_empty: bool
    ) -> tuple[str, ...]:
        """A list of references to existing ids, without duplicates."""
        items = self.get(key, list, _REQUIRED if non_empty else [])
        if non_empty and not items:
            raise _Invalid(self.at(key), f"must list at least one {what}")
        known = set(known)
        seen: list[str] = []
        for index, item in enumerate(items):
            path = (*self.at(key), index)
            _expect(path, item, str)
            if item not in known:
                raise _Invalid(path, f"unknown {what} {item!r}")
            if item in seen:
                raise _Invalid(path, f"{what} {item!r} is listed twice")
            seen.append(item)
        return tuple(seen)


T = TypeVar("T")


def _array(
    data: dict[str, Any],
    key: str,
    allowed: Iterable[str],
    build: Callable[[_Table], T],
    id_attr: str,
    *,
    required: bool,
) -> tuple[T, ...]:
    """Validate an array of tables (``[[key]]``) item by item, with unique ids."""
    if key not in data:
        if required:
            raise _Invalid((key,), f"at least one [[{key}]] table is required")
        return ()
    items = _expect((key,), data[key], list)
    if required and not items:
        raise _Invalid((key,), f"at least one [[{key}]] table is required")
    built: list[T] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        _expect((key, index), item, dict)
        obj = build(_Table(item, (key, index), allowed))
        ident = getattr(obj, id_attr)
        if ident in first_index:
            raise _Invalid(
                (key, index, id_attr),
                f"duplicate {id_attr} {ident!r} (already used by {key}[{first_index[ident]}])",
            )
        first_index[ident] = index
        built.append(obj)
    return tuple(built)


# --- sections ------------------------------------------------------------------------------

_TOP_LEVEL = (
    "csa", "rules", "agencies", "services", "counters", "zones", "printers", "printing", "kiosks",
    "security", "receipts",
)
_AGENCY_KEYS = ("id", "name", "order")
_SERVICE_KEYS = (
    "code",
    "prefix",
    "name",
    "name_en",
    "agency",
    "target_wait_minutes",
    "preferential",
)
_COUNTER_KEYS = ("id", "name", "agency", "services", "printer")
_ZONE_KEYS = ("id", "name", "counters", "services", "volume", "voice")
# Announcements are Spanish sentences: the voice is a Spanish language tag.
_SPANISH_TAG = re.compile(r"^es(-[A-Za-z0-9]{2,8})?$")
_KIOSK_KEYS = ("id", "name", "agencies", "printer")


def _build(data: dict[str, Any], base_dir: Path) -> CsaConfig:
    root = _Table(data, (), _TOP_LEVEL)
    csa = _csa(root.table("csa", _CSA_KEYS, required=True))
    rules = _rules(root.table("rules", _RULES_KEYS))
    agencies = _array(data, "agencies", _AGENCY_KEYS, _agency, "id", required=True)
    agency_ids = [a.id for a in agencies]
    service = partial(_service, agency_ids=agency_ids)
    services = _array(data, "services", _SERVICE_KEYS, service, "code", required=True)
    _check_unique_prefixes(services)
    # Printers first: counters and kiosks refer to them.
    printer = partial(_printer, base_dir=base_dir)
    printers = _array(data, "printers", _PRINTER_KEYS, printer, "id", required=False)
    counter = partial(_counter, agency_ids=agency_ids, services=services, printers=printers)
    counters = _array(data, "counters", _COUNTER_KEYS, counter, "id", required=True)
    _check_every_service_is_served(services, counters)
    zone = partial(_zone, counters=counters, services=services)
    zones = _array(data, "zones", _ZONE_KEYS, zone, "id", required=False)
    printing = _printing(root.table("printing", _PRINTING_KEYS), base_dir)
    kiosk = partial(_kiosk, agency_ids=agency_ids, printers=printers)
    kiosks = _array(data, "kiosks", _KIOSK_KEYS, kiosk, "id", required=False)
    security = _security(root.table("security", _SECURITY_KEYS))
    receipts = _receipts(root.table("receipts", _RECEIPTS_KEYS), base_dir)
    return CsaConfig(
        **csa,
        rules=rules,
        agencies=agencies,
        services=services,
        counters=counters,
        zones=zones,
        printers=printers,
        kiosks=kiosks,
        printing=printing,
        security=security,
        receipts=receipts,
    )


def _csa(csa: _Table) -> dict[str, Any]:
    """The [csa] fields of CsaConfig, in file order so the first error is the topmost."""
    return {
        "name": csa.text("name"),
        "timezone": _timezone(csa),
        "base_url": _base_url(csa),
        "default_locale": _locale(csa),
        "hours": _hours(csa),
        "working_days": _working_days(csa),
        "holidays": _holidays(csa),
    }


_CSA_KEYS = ("name", "timezone", "base_url", "default_locale", "hours", "working_days", "holidays")


def _timezone(csa: _Table) -> ZoneInfo:
    name = csa.get("timezone", str)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.8)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise _Invalid(csa.at("timezone"), f"unknown IANA time zone {name!r}{suggestion}") from None


def _base_url(csa: _Table) -> str:
    url = csa.get("base_url", str)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
        raise _Invalid(csa.at("base_url"), f"must be an http:// or https:// URL, got {url!r}")
    if parts.query or parts.fragment:
        raise _Invalid(csa.at("base_url"), "must not have a query string or fragment")
    if url.endswith("/"):
        raise _Invalid(csa.at("base_url"), f"must not end with '/', use {url.rstrip('/')!r}")
    return url


def _locale(csa: _Table) -> str:
    locale = csa.get("default_locale", str, "es_MX")
    if locale not in LOCALES:
        raise _Invalid(csa.at("default_locale"), f"must be one of {LOCALES}, got {locale!r}")
    return locale


def _clock(table: _Table, key: str) -> dt.time:
    value = table.data.get(key)
    if isinstance(value, dt.time):  # an unquoted TOML local time, 08:00:00
        return value
    text = table.get(key, str)
    match = _HH_MM.match(text)
    if not match:
        raise _Invalid(table.at(key), f'expected a time like "08:00", got {text!r}')
    return dt.time(int(match.group(1)), int(match.group(2)))


def _hours(csa: _Table) -> OpeningHours:
    hours = csa.table("hours", ("opens", "closes"), required=True)
    opens, closes = _clock(hours, "opens"), _clock(hours, "closes")
    if closes <= opens:
        raise _Invalid(hours.at("closes"), f"must be later than opens ({opens:%H:%M})")
    return OpeningHours(opens=opens, closes=closes)


def _working_days(csa: _Table) -> frozenset[int]:
    days = csa.get("working_days", list)
    if not days:
        raise _Invalid(csa.at("working_days"), "must list at least one day")
    for index, day in enumerate(days):
        path = (*csa.at("working_days"), index)
        _expect(path, day, int)
        if not 1 <= day <= 7:
            raise _Invalid(path, f"must be an ISO weekday, 1 (Monday) to 7 (Sunday), got {day}")
        if day in days[:index]:
            raise _Invalid(path, f"day {day} is listed twice")
    return frozenset(days)


def _holidays(csa: _Table) -> frozenset[dt.date]:
    holidays = csa.get("holidays", list, [])
    for index, day in enumerate(holidays):
        path = (*csa.at("holidays"), index)
        _expect(path, day, dt.date)
        if day in holidays[:index]:
            raise _Invalid(path, f"{day} is listed twice")
    return frozenset(holidays)


_RULES_KEYS = ("transfer_placement", "no_show_after_recalls", "max_recalls", "preferential")


def _rules(rules: _Table) -> QueueRules:
    defaults = QueueRules()
    no_show = rules.integer("no_show_after_recalls", defaults.no_show_after_recalls, minimum=0)
    max_recalls = rules.integer("max_recalls", defaults.max_recalls, minimum=1)
    if max_recalls < no_show:
        raise _Invalid(
            rules.at("max_recalls"),
            f"must be >= no_show_after_recalls ({no_show}), got {max_recalls}",
        )
    pref = rules.table("preferential", ("mode", "regular_wait_cap_minutes", "every"))
    pref_defaults = defaults.preferential
    return QueueRules(
        transfer_placement=rules.choice(
            "transfer_placement", TransferPlacement, defaults.transfer_placement
        ),
        no_show_after_recalls=no_show,
        max_recalls=max_recalls,
        preferential=PreferentialPolicyConfig(
            mode=pref.choice("mode", PreferentialMode, pref_defaults.mode),
            regular_wait_cap_minutes=pref.integer(
                "regular_wait_cap_minutes", pref_defaults.regular_wait_cap_minutes, minimum=1
            ),
            every=_every(pref, pref_defaults.every),
        ),
    )


def _every(pref: _Table, default: int) -> int:
    every = pref.get("every", int, default)
    if every < 2:
        raise _Invalid(
            pref.at("every"),
            f"must be >= 2, got {every}: with every = 1 all calls would go to preferential "
            "tickets while any wait, and regular tickets could wait forever",
        )
    return every


def _agency(t: _Table) -> Agency:
    return Agency(id=t.ident("id"), name=t.text("name"), order=t.choice("order", GovernmentOrder))


def _reference(t: _Table, key: str, known: Iterable[str], what: str) -> str:
    value = t.get(key, str)
    if value not in set(known):
        raise _Invalid(t.at(key), f"unknown {what} {value!r}")
    return value


def _service(t: _Table, agency_ids: list[str]) -> Service:
    code = t.ident("code")
    prefix = t.get("prefix", str)
    if not _PREFIX.match(prefix):
        raise _Invalid(t.at("prefix"), f"must be 1 or 2 uppercase letters A-Z, got {prefix!r}")
    return Service(
        code=code,
        prefix=prefix,
        name=t.text("name"),
        name_en=t.text("name_en", None),
        agency=_reference(t, "agency", agency_ids, "agency"),
        target_wait_minutes=t.integer("target_wait_minutes", minimum=1),
        # Preferential attention is the legal default; opt out per service.
        preferential=t.get("preferential", bool, True),
    )


def _check_unique_prefixes(services: tuple[Service, ...]) -> None:
    owner: dict[str, Service] = {}
    for index, service in enumerate(services):
        if service.prefix in owner:
            raise _Invalid(
                ("services", index, "prefix"),
                f"duplicate prefix {service.prefix!r}: used by services "
                f"{owner[service.prefix].code!r} and {service.code!r}",
            )
        owner[service.prefix] = service


def _counter(t: _Table, agency_ids: list[str], services: tuple[Service, ...],
             printers: tuple[Printer, ...] = ()) -> Counter:
    counter_id, name = t.ident("id"), t.text("name", max_length=100)
    agency = _reference(t, "agency", agency_ids, "agency")
    served = t.id_list("services", [s.code for s in services], "service", non_empty=True)
    for index, code in enumerate(served):
        other = next(s.agency for s in services if s.code == code)
        if other != agency:
            raise _Invalid(
                (*t.at("services"), index),
                f"service {code!r} belongs to agency {other!r}, "
                f"but this counter belongs to {agency!r}",
            )
    printer = None
    if "printer" in t.data:  # optional: where this counter's receipt slips are printed
        printer = _reference(t, "printer", [p.id for p in printers], "printer")
    return Counter(id=counter_id, name=name, agency=agency, services=served, printer=printer)


def _check_every_service_is_served(
    services: tuple[Service, ...], counters: tuple[Counter, ...]
) -> None:
    served = {code for counter in counters for code in counter.services}
    for index, service in enumerate(services):
        if service.code not in served:
            raise _Invalid(
                ("services", index, "code"),
                f"no counter serves {service.code!r}; its tickets could never be called",
            )


def _zone(t: _Table, counters: tuple[Counter, ...], services: tuple[Service, ...]) -> DisplayZone:
    zone = DisplayZone(
        id=t.ident("id"),
        name=t.text("name"),
        counters=t.id_list("counters", [c.id for c in counters], "counter", non_empty=False),
        services=t.id_list("services", [s.code for s in services], "service", non_empty=False),
        volume=t.integer("volume", 100, minimum=0, maximum=100),
        voice=t.text("voice", "es-MX", max_length=20),
    )
    if not _SPANISH_TAG.match(zone.voice):
        raise _Invalid(t.at("voice"), f"must be a Spanish language tag such as 'es-MX', "
                                      f"got {zone.voice!r}")
    if not zone.counters and not zone.services:
        raise _Invalid(t.path, "a zone must list some counters or services to show")
    return zone


_PRINTER_FIELDS = {
    PrinterKind.NETWORK: ("host", "port"),
    PrinterKind.USB: ("vendor_id", "product_id"),
    PrinterKind.SERIAL: ("device", "baudrate"),
    PrinterKind.CUPS: ("queue",),
    PrinterKind.FILE: ("path",),
}
_KIND_KEYS = tuple(key for keys in _PRINTER_FIELDS.values() for key in keys)
_PRINTER_KEYS = ("id", "kind", "paper_width_mm", *_KIND_KEYS)


def _printer(t: _Table, base_dir: Path) -> Printer:
    printer_id, kind = t.ident("id"), t.choice("kind", PrinterKind)
    for key in t.data:
        if key in _KIND_KEYS and key not in _PRINTER_FIELDS[kind]:
            raise _Invalid(t.at(key), f"not used by kind = {kind.value!r} printers")
    width = t.get("paper_width_mm", int, 80)
    if width not in PAPER_WIDTHS_MM:
        raise _Invalid(t.at("paper_width_mm"), f"must be 58 or 80, got {width}")
    fields: dict[str, Any] = {}
    if kind is PrinterKind.NETWORK:
        fields = {"host": t.text("host"), "port": t.integer("port", 9100, minimum=1, maximum=65535)}
    elif kind is PrinterKind.USB:
        fields = {
            key: t.integer(key, minimum=0, maximum=0xFFFF) for key in ("vendor_id", "product_id")
        }
    elif kind is PrinterKind.SERIAL:
        fields = {"device": t.text("device"), "baudrate": t.integer("baudrate", 9600, minimum=1)}
    elif kind is PrinterKind.CUPS:
        fields = {"queue": t.text("queue")}
    else:  # relative to the directory of config.toml, not the working directory
        fields = {"path": str(base_dir / t.text("path", max_length=4096))}
    return Printer(id=printer_id, kind=kind, paper_width_mm=width, **fields)


_PRINTING_KEYS = ("retry_seconds", "give_up_after_minutes", "on_give_up", "logo")


def _printing(t: _Table, base_dir: Path) -> PrintingConfig:
    defaults = PrintingConfig()
    retry = t.integer("retry_seconds", defaults.retry_seconds, minimum=1, maximum=3600)
    give_up = t.integer(
        "give_up_after_minutes", defaults.give_up_after_minutes, minimum=1, maximum=24 * 60
    )
    if give_up * 60 <= retry:
        raise _Invalid(
            t.at("give_up_after_minutes"),
            f"must leave time for a retry: {give_up} min is not longer than "
            f"retry_seconds ({retry} s)",
        )
    return PrintingConfig(
        retry_seconds=retry,
        give_up_after_minutes=give_up,
        on_give_up=t.choice("on_give_up", GiveUp, defaults.on_give_up),
        logo=_logo(t, base_dir),
    )


def _logo(t: _Table, base_dir: Path) -> str | None:
    """An image file, relative to the config's folder; checked now, not at the first ticket."""
    name = t.text("logo", None, max_length=4096)
    if name is None:
        return None
    path = base_dir / name
    try:
        from PIL import Image

        with Image.open(path) as image:
            image.verify()
    except FileNotFoundError:
        raise _Invalid(t.at("logo"), f"no such file: {path}") from None
    except Exception as error:  # Pillow raises several kinds for files it cannot read
        raise _Invalid(t.at("logo"), f"not an image Turnos can print: {error}") from None
    return str(path)


def _kiosk(t: _Table, agency_ids: list[str], printers: tuple[Printer, ...]) -> Kiosk:
    kiosk_id, name = t.ident("id"), t.text("name")
    agencies = t.id_list("agencies", agency_ids, "agency", non_empty=True)
    printer = None
    if "printer" in t.data:  # optional: a kiosk without a printer shows the ticket on screen
        printer = _reference(t, "printer", [p.id for p in printers], "printer")
    return Kiosk(id=kiosk_id, name=name, agencies=agencies, printer=printer)


_SECURITY_KEYS = (
    "session_idle_minutes", "login_attempts_per_minute", "lockout_after_failures",
    "lockout_minutes",
)


def _security(t: _Table) -> SecurityConfig:
    defaults = SecurityConfig()
    return SecurityConfig(
        session_idle_minutes=t.integer(
            "session_idle_minutes", defaults.session_idle_minutes, minimum=1, maximum=12 * 60
        ),
        login_attempts_per_minute=t.integer(
            "login_attempts_per_minute", defaults.login_attempts_per_minute, minimum=1,
            maximum=1000,
        ),
        lockout_after_failures=t.integer(
            "lockout_after_failures", defaults.lockout_after_failures, minimum=1, maximum=1000
        ),
        lockout_minutes=t.integer(
            "lockout_minutes", defaults.lockout_minutes, minimum=1, maximum=24 * 60
        ),
    )


_RECEIPTS_KEYS = (
    "enabled", "pkcs12", "key", "certificates", "passphrase_env", "trust_roots", "crls",
    "tsa_url", "embed_validation_data", "retention_days", "page_size", "show_staff_name",
    "storage_dir",
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _receipts(t: _Table, base_dir: Path) -> ReceiptsConfig:
    """[receipts]; key files are resolved here but only read when a signer starts."""
    defaults = ReceiptsConfig()
    enabled = t.get("enabled", bool, defaults.enabled)

    def path(key: str) -> str | None:
        name = t.text(key, None, max_length=4096)
        return None if name is None else str(base_dir / name)

    def paths(key: str) -> tuple[str, ...]:
        names = t.get(key, list, [])
        for index, name in enumerate(names):
            _expect((*t.at(key), index), name, str)
            if not name.strip():
                raise _Invalid((*t.at(key), index), "must not be empty")
        return tuple(str(base_dir / name) for name in names)

    pkcs12, key, certificates = path("pkcs12"), path("key"), paths("certificates")
    if pkcs12 is not None and (key is not None or certificates):
        raise _Invalid(t.at("key" if key is not None else "certificates"),
                       "give either pkcs12 or key + certificates, not both")
    if (key is None) != (not certificates):
        missing = "certificates" if key is not None else "key"
        raise _Invalid(t.at(missing), "key and certificates go together (PEM files)")
    trust_roots = paths("trust_roots")
    if enabled and pkcs12 is None and key is None:
        raise _Invalid(t.at("enabled"), "signed receipts need pkcs12, or key and certificates")
    if enabled and not trust_roots:
        raise _Invalid(t.at("trust_roots"),
                       "list the CA certificate(s) receipts are verified against")
    passphrase_env = t.get("passphrase_env", str, defaults.passphrase_env)
    if not _ENV_NAME.match(passphrase_env):
        raise _Invalid(t.at("passphrase_env"),
                       f"must be an environment variable name, got {passphrase_env!r}")
    tsa_url = t.text("tsa_url", None, max_length=2048)
    if tsa_url is not None:
        parts = urlsplit(tsa_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in tsa_url:
            raise _Invalid(t.at("tsa_url"), f"must be an http:// or https:// URL, got {tsa_url!r}")
    embed = t.get("embed_validation_data", bool, defaults.embed_validation_data)
    if embed and tsa_url is None:
        raise _Invalid(t.at("embed_validation_data"),
                       "PAdES B-LT builds on a timestamp: set tsa_url too")
    page_size = t.get("page_size", str, defaults.page_size)
    if page_size not in ("letter", "a4"):
        raise _Invalid(t.at("page_size"), f"must be 'letter' or 'a4', got {page_size!r}")
    return ReceiptsConfig(
        enabled=enabled,
        pkcs12=pkcs12,
        key=key,
        certificates=certificates,
        passphrase_env=passphrase_env,
        trust_roots=trust_roots,
        crls=paths("crls"),
        tsa_url=tsa_url,
        embed_validation_data=embed,
        retention_days=t.integer("retention_days", defaults.retention_days, minimum=1,
                                 maximum=36500),
        page_size=page_size,
        show_staff_name=t.get("show_staff_name", bool, defaults.show_staff_name),
        storage_dir=str(base_dir / t.text("storage_dir", defaults.storage_dir, max_length=4096)),
    )
