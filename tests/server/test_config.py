"""Loading and validating config.toml (server.config) and locating keys (server.config_lines)."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest

from server.config import ConfigError, load_config
from server.config_lines import locate
from server.config_types import (
    CsaConfig,
    GiveUp,
    GovernmentOrder,
    PreferentialMode,
    PrinterKind,
    PrintingConfig,
    QueueRules,
    SecurityConfig,
    TransferPlacement,
)

SHIPPED = Path(__file__).resolve().parents[2] / "config.toml"

# A small valid centre. Every rule test below changes exactly one thing in it (or in the
# shipped config.toml), so a test only passes if its own rule catches the change.
MINIMAL = """\
[csa]
name = "CSA de prueba"
timezone = "America/Mexico_City"
base_url = "http://localhost:8000"
hours = { opens = "08:00", closes = "15:00" }
working_days = [1, 2, 3, 4, 5]
holidays = [2026-09-16]

[rules]
transfer_placement = "front"
no_show_after_recalls = 1
max_recalls = 3

[rules.preferential]
mode = "cap"
regular_wait_cap_minutes = 20
every = 2

[[agencies]]
id = "rc"
name = "Registro Civil"
order = "state"

[[agencies]]
id = "agua"
name = "Agua Potable"
order = "municipal"

[[services]]
code = "ACTA"
prefix = "A"
name = "Acta de nacimiento"
agency = "rc"
target_wait_minutes = 15

[[services]]
code = "AGUA"
prefix = "W"
name = "Pago de agua"
name_en = "Water bill payment"
agency = "agua"
target_wait_minutes = 10
preferential = false

[[counters]]
id = "V01"
name = "Ventanilla 1"
agency = "rc"
services = ["ACTA"]

[[counters]]
id = "V02"
name = "Ventanilla 2"
agency = "agua"
services = ["AGUA"]

[[zones]]
id = "z1"
name = "Planta baja"
counters = ["V01"]

[[zones]]
id = "z2"
name = "Planta alta"
services = ["AGUA"]

[[printers]]
id = "p1"
kind = "file"
path = "out/p1.bin"

[[printers]]
id = "p2"
kind = "network"
host = "192.168.0.50"

[printing]
retry_seconds = 10
give_up_after_minutes = 20
on_give_up = "keep"

[[kiosks]]
id = "k1"
name = "Kiosco 1"
agencies = ["rc", "agua"]
printer = "p1"

[[kiosks]]
id = "k2"
name = "Kiosco 2"
agencies = ["agua"]
"""


def _load(tmp_path: Path, text: str) -> CsaConfig:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return info.value


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"edit anchor must be unique: {old!r}"
    return text.replace(old, new)


def _without_tables(text: str, *names: str) -> str:
    """Drop the tables with these header names (each table is one blank-line separated block)."""
    headers = {f"[{name}]" for name in names} | {f"[[{name}]]" for name in names}
    blocks = text.split("\n\n")
    return "\n\n".join(b for b in blocks if b.split("\n")[0] not in headers)


def _line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"line needle must be unique: {needle!r}"
    return text[: text.index(needle)].count("\n") + 1


# --- the shipped demo ------------------------------------------------------------------------


def test_the_shipped_config_describes_a_realistic_demo_centre():
    config = load_config(SHIPPED)

    assert config.timezone.key == "America/Mexico_City"
    assert config.base_url == "http://127.0.0.1:8000"
    assert (config.hours.opens, config.hours.closes) == (dt.time(8), dt.time(15))
    assert config.working_days == {1, 2, 3, 4, 5}
    assert {day.year for day in config.holidays} == {2026, 2027}
    assert len(config.agencies) >= 6
    assert {a.order for a in config.agencies} == set(GovernmentOrder)
    assert len(config.services) >= 15
    assert all(s.name_en and 10 <= s.target_wait_minutes <= 40 for s in config.services)
    assert len(config.counters) >= 25
    assert all(1 <= len(c.services) <= 3 for c in config.counters)
    assert [z.id for z in config.zones] == ["planta-baja", "planta-alta"]
    assert len(config.kiosks) == 3
    assert all(k.printer is not None for k in config.kiosks)


def test_the_shipped_zones_split_the_agencies_between_the_two_floors():
    config = load_config(SHIPPED)

    floors = [
        {config.service(code).agency for code in zone.services}
        | {config.counter(counter).agency for counter in zone.counters}
        for zone in config.zones
    ]
    assert floors[0].isdisjoint(floors[1])
    assert floors[0] | floors[1] == {a.id for a in config.agencies}


def test_the_shipped_printers_are_files_under_instance_printers_next_to_the_config():
    config = load_config(SHIPPED)

    assert len(config.printers) == 3
    for printer in config.printers:
        assert printer.kind is PrinterKind.FILE
        assert printer.path == str(SHIPPED.parent / "instance" / "printers" / f"{printer.id}.bin")


# --- a valid config and its defaults ---------------------------------------------------------


def test_the_minimal_test_config_loads_with_the_documented_defaults(tmp_path):
    text = _without_tables(
        MINIMAL, "rules", "rules.preferential", "zones", "printers", "printing", "kiosks"
    )

    config = _load(tmp_path, text)

    assert config.rules == QueueRules()
    assert config.printing == PrintingConfig(
        retry_seconds=5, give_up_after_minutes=15, on_give_up=GiveUp.CANCEL, logo=None
    )
    assert config.default_locale == "es_MX"
    assert config.service("ACTA").preferential is True
    assert config.service("ACTA").name_en is None
    assert config.holidays == {dt.date(2026, 9, 16)}
    assert config.zones == () and config.printers == () and config.kiosks == ()


def test_the_minimal_test_config_loads_every_section(tmp_path):
    config = _load(tmp_path, MINIMAL)

    assert config.rules.transfer_placement is TransferPlacement.FRONT
    assert config.rules.preferential.mode is PreferentialMode.CAP
    assert config.service("AGUA").preferential is False
    assert config.zone("z2").counters == ()
    assert config.kiosks[1].printer is None
    assert config.printers[1].port == 9100 and config.printers[1].paper_width_mm == 80
    assert config.printing == PrintingConfig(
        retry_seconds=10, give_up_after_minutes=20, on_give_up=GiveUp.KEEP
    )


def test_relative_printer_paths_resolve_against_the_config_folder_not_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path.parent)
    config = _load(tmp_path, MINIMAL)

    assert config.printers[0].path == str(tmp_path.resolve() / "out" / "p1.bin")


def test_the_shipped_config_spells_out_the_printing_defaults():
    assert load_config(SHIPPED).printing == PrintingConfig()


def test_the_shipped_config_spells_out_the_security_defaults():
    assert "\n[security]\n" in SHIPPED.read_text(encoding="utf-8")
    assert load_config(SHIPPED).security == SecurityConfig()


def test_without_a_security_table_staff_sign_in_gets_the_documented_defaults(tmp_path):
    security = _load(tmp_path, MINIMAL).security

    assert security == SecurityConfig(session_idle_minutes=30, login_attempts_per_minute=10,
                                      lockout_after_failures=10, lockout_minutes=15)


def test_the_security_table_sets_idle_timeout_rate_limit_and_lockout(tmp_path):
    text = MINIMAL + (
        "\n[security]\nsession_idle_minutes = 10\nlogin_attempts_per_minute = 5\n"
        "lockout_after_failures = 3\nlockout_minutes = 60\n"
    )

    assert _load(tmp_path, text).security == SecurityConfig(10, 5, 3, 60)


@pytest.mark.parametrize(("line", "key", "fragment"), [
    ("session_idle_minutes = 0", "security.session_idle_minutes", "between 1 and 720, got 0"),
    ("session_idle_minutes = 721", "security.session_idle_minutes", "between 1 and 720"),
    ('login_attempts_per_minute = "10"', "security.login_attempts_per_minute", "an integer"),
    ("lockout_after_failures = 0", "security.lockout_after_failures", "between 1 and 1000"),
    ("lockout_minutes = 1441", "security.lockout_minutes", "between 1 and 1440"),
    ("idle_minutes = 30", "security.idle_minutes", "did you mean 'session_idle_minutes'"),
])
def test_a_bad_security_value_is_named_with_its_line(tmp_path, line, key, fragment):
    text = MINIMAL + f"\n[security]\n{line}\n"

    error = _error(tmp_path, text)

    assert error.key == key
    assert fragment in error.message
    assert error.line == _line_of(text, line)


def test_a_ticket_logo_is_an_image_found_next_to_the_config(tmp_path, monkeypatch):
    from PIL import Image

    (tmp_path / "branding").mkdir()
    Image.new("1", (64, 16)).save(tmp_path / "branding" / "logo.png")
    monkeypatch.chdir(tmp_path.parent)
    text = _edit(MINIMAL, 'on_give_up = "keep"', 'on_give_up = "keep"\nlogo = "branding/logo.png"')

    config = _load(tmp_path, text)

    assert config.printing.logo == str(tmp_path.resolve() / "branding" / "logo.png")


def test_times_may_be_written_as_toml_local_times_or_without_a_leading_zero(tmp_path):
    text = _edit(MINIMAL, 'opens = "08:00", closes = "15:00"', 'opens = 07:30:00, closes = "9:45"')

    hours = _load(tmp_path, text).hours

    assert (hours.opens, hours.closes) == (dt.time(7, 30), dt.time(9, 45))


# --- the rules named in the brief, with their lines ------------------------------------------


def test_unknown_service_in_a_counter_is_named_with_its_line(tmp_path):
    old = 'services = ["PLACAS", "NOADEUDO", "TENENCIA"]'
    new = 'services = ["PLACAS", "XYZ", "TENENCIA"]'
    text = _edit(SHIPPED.read_text(encoding="utf-8"), old, new)

    error = _error(tmp_path, text)

    assert error.key == "counters[4].services[1]"
    assert error.message == "unknown service 'XYZ'"
    assert error.line == _line_of(text, new)
    assert str(error) == f"{tmp_path / 'config.toml'}:{error.line}: {error.key}: {error.message}"


def test_a_duplicate_prefix_names_both_services(tmp_path):
    text = _edit(SHIPPED.read_text(encoding="utf-8"), 'prefix = "D"', 'prefix = "A"')

    error = _error(tmp_path, text)

    assert error.key == "services[1].prefix"
    assert "duplicate prefix 'A'" in error.message
    assert "'ACTA'" in error.message and "'DEFUN'" in error.message
    assert error.line == _line_of(text, 'prefix = "A"\nname = "Acta de defunción"')


def test_a_misspelt_time_zone_is_rejected_with_a_suggestion(tmp_path):
    old = 'timezone = "America/Mexico_City"'
    text = _edit(SHIPPED.read_text(encoding="utf-8"), old, 'timezone = "America/Mexico_Cty"')

    error = _error(tmp_path, text)

    assert error.key == "csa.timezone"
    assert "unknown IANA time zone 'America/Mexico_Cty'" in error.message
    assert "did you mean 'America/Mexico_City'" in error.message
    assert error.line == _line_of(text, "America/Mexico_Cty")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "CST"])
def test_anything_but_an_iana_time_zone_is_rejected(tmp_path, zone):
    text = _edit(MINIMAL, '"America/Mexico_City"', f'"{zone}"')

    error = _error(tmp_path, text)

    assert error.key == "csa.timezone" and "unknown IANA time zone" in error.message


def test_a_toml_syntax_error_reports_its_line(tmp_path):
    text = _edit(MINIMAL, 'order = "municipal"', "order = municipal")

    error = _error(tmp_path, text)

    assert error.line == _line_of(text, "order = municipal")
    assert error.key == ""
    assert error.message.startswith("TOML syntax error: Invalid value")
    assert str(error).startswith(f"{tmp_path / 'config.toml'}:{error.line}: TOML syntax error")


def test_a_syntax_error_at_the_end_of_the_file_points_at_the_last_line(tmp_path):
    text = MINIMAL + 'name = "unterminated\n'

    error = _error(tmp_path, text)

    assert error.line == text.count("\n")


def test_an_unknown_key_is_an_error_that_suggests_the_right_one(tmp_path):
    text = _edit(MINIMAL, 'services = ["ACTA"]', 'servics = ["ACTA"]')

    error = _error(tmp_path, text)

    assert error.key == "counters[0].servics"
    assert error.message == "unknown key 'servics' (did you mean 'services'?)"
    assert error.line == _line_of(text, "servics")


def test_an_unknown_table_is_an_error_at_its_header(tmp_path):
    text = MINIMAL + "\n[kiosk]\nid = 'k3'\n"

    error = _error(tmp_path, text)

    assert error.key == "kiosk"
    assert "did you mean 'kiosks'" in error.message
    assert error.line == _line_of(text, "[kiosk]\n")


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("target_wait_minutes = 15", 'target_wait_minutes = "15"', "services[0]", "an integer"),
        ("target_wait_minutes = 15", "target_wait_minutes = true", "services[0]", "an integer"),
        ("target_wait_minutes = 15", "target_wait_minutes = 15.0", "services[0]", "an integer"),
        ("preferential = false", 'preferential = "no"', "services[1]", "a boolean"),
        ('name = "Ventanilla 1"', "name = 1", "counters[0]", "a string"),
        ('services = ["ACTA"]', 'services = "ACTA"', "counters[0]", "an array"),
        ("working_days = [1, 2, 3, 4, 5]", 'working_days = "1-5"', "csa", "an array"),
        ("holidays = [2026-09-16]", 'holidays = ["2026-09-16"]', "csa", "a date"),
        ("holidays = [2026-09-16]", "holidays = [2026-09-16T00:00:00]", "csa", "a date"),
        ('hours = { opens = "08:00", closes = "15:00" }', 'hours = "08-15"', "csa", "a table"),
    ],
)
def test_a_wrong_type_names_the_key_and_the_expected_type(tmp_path, old, new, key, expected):
    text = _edit(MINIMAL, old, new)
    wrong_key = new.split(" =")[0]

    error = _error(tmp_path, text)

    assert error.key.startswith(f"{key}.{wrong_key}")
    assert error.message.startswith(f"expected {expected}") and ", got " in error.message
    assert error.line == _line_of(text, new.split("\n")[0])


def test_preferential_every_of_one_is_rejected_because_it_would_starve_regular_tickets(tmp_path):
    text = _edit(MINIMAL, "every = 2", "every = 1")

    error = _error(tmp_path, text)

    assert error.key == "rules.preferential.every"
    assert error.message.startswith("must be >= 2, got 1")
    assert error.line == _line_of(text, "every = 1")


def test_a_counter_cannot_serve_a_service_of_another_agency(tmp_path):
    text = _edit(MINIMAL, 'services = ["ACTA"]', 'services = ["ACTA", "AGUA"]')

    error = _error(tmp_path, text)

    assert error.key == "counters[0].services[1]"
    assert error.message == (
        "service 'AGUA' belongs to agency 'agua', but this counter belongs to 'rc'"
    )
    assert error.line == _line_of(text, '["ACTA", "AGUA"]')


def test_a_kiosk_with_an_unknown_printer_is_rejected(tmp_path):
    text = _edit(MINIMAL, 'printer = "p1"', 'printer = "p9"')

    error = _error(tmp_path, text)

    assert error.key == "kiosks[0].printer"
    assert error.message == "unknown printer 'p9'"
    assert error.line == _line_of(text, 'printer = "p9"')


# --- every other rule, one bad value each ----------------------------------------------------

# name: (old text, new text, key in the error, part of the message[, text on the reported line]).
# The reported line defaults to the first line of the new text.
RULES = {
    "empty name": ('"CSA de prueba"', '""', "csa.name", "must not be empty"),
    "base_url scheme": (
        '"http://localhost:8000"',
        '"ftp://localhost"',
        "csa.base_url",
        "http:// or https://",
    ),
    "base_url host": ('"http://localhost:8000"', '"http://"', "csa.base_url", "http://"),
    "base_url slash": (
        '"http://localhost:8000"',
        '"https://csa.example.mx/turnos/"',
        "csa.base_url",
        "must not end with '/'",
    ),
    "base_url query": (
        '"http://localhost:8000"',
        '"http://localhost:8000?x=1"',
        "csa.base_url",
        "query",
    ),
    "locale": (
        'base_url = "http://localhost:8000"',
        'base_url = "http://localhost:8000"\ndefault_locale = "fr"',
        "csa.default_locale",
        "must be one of",
        "default_locale",
    ),
    "time format": ('opens = "08:00"', 'opens = "8am"', "csa.hours.opens", 'like "08:00"'),
    "closing before opening": (
        'closes = "15:00"',
        'closes = "07:00"',
        "csa.hours.closes",
        "later than opens (08:00)",
    ),
    "no working days": ("[1, 2, 3, 4, 5]", "[]", "csa.working_days", "at least one day"),
    "weekday 0": ("[1, 2, 3, 4, 5]", "[0, 1]", "csa.working_days[0]", "ISO weekday"),
    "weekday 8": ("[1, 2, 3, 4, 5]", "[1, 8]", "csa.working_days[1]", "ISO weekday"),
    "weekday twice": ("[1, 2, 3, 4, 5]", "[1, 2, 1]", "csa.working_days[2]", "listed twice"),
    "holiday twice": (
        "[2026-09-16]",
        "[2026-09-16, 2026-09-16]",
        "csa.holidays[1]",
        "listed twice",
    ),
    "transfer placement": (
        '"front"',
        '"back"',
        "rules.transfer_placement",
        "'front', 'original_time'",
    ),
    "negative no-show": (
        "no_show_after_recalls = 1",
        "no_show_after_recalls = -1",
        "rules.no_show_after_recalls",
        ">= 0",
    ),
    "max recalls 0": ("max_recalls = 3\n", "max_recalls = 0\n", "rules.max_recalls", ">= 1, got 0"),
    "max recalls below no-show": (
        "no_show_after_recalls = 1\nmax_recalls = 3",
        "no_show_after_recalls = 3\nmax_recalls = 2",
        "rules.max_recalls",
        ">= no_show_after_recalls (3), got 2",
        "max_recalls = 2",
    ),
    "preferential mode": ('mode = "cap"', 'mode = "random"', "rules.preferential.mode", "'cap'"),
    "wait cap": (
        "regular_wait_cap_minutes = 20",
        "regular_wait_cap_minutes = 0",
        "rules.preferential.regular_wait_cap_minutes",
        ">= 1",
    ),
    "agency order": ('order = "state"', 'order = "estatal"', "agencies[0].order", "'federal'"),
    "id with a space": ('id = "rc"', 'id = "r c"', "agencies[0].id", "invalid id 'r c'"),
    "duplicate agency": (
        'id = "agua"',
        'id = "rc"',
        "agencies[1].id",
        "duplicate id 'rc'",
        'id = "rc"\nname = "Agua',
    ),
    "duplicate service": (
        'code = "AGUA"',
        'code = "ACTA"',
        "services[1].code",
        "duplicate code 'ACTA'",
        'code = "ACTA"\nprefix = "W"',
    ),
    "lowercase prefix": ('prefix = "A"', 'prefix = "a"', "services[0].prefix", "uppercase"),
    "long prefix": ('prefix = "A"', 'prefix = "ABC"', "services[0].prefix", "1 or 2"),
    "unknown service agency": (
        'agency = "rc"\ntarget',
        'agency = "rpp"\ntarget',
        "services[0].agency",
        "unknown agency 'rpp'",
    ),
    "zero target wait": (
        "target_wait_minutes = 15",
        "target_wait_minutes = 0",
        "services[0].target_wait_minutes",
        ">= 1",
    ),
    "service nobody serves": (
        '[[counters]]\nid = "V01"',
        '[[services]]\ncode = "DEFUN"\nprefix = "D"\nname = "Defunción"\nagency = "rc"\n'
        'target_wait_minutes = 20\n\n[[counters]]\nid = "V01"',
        "services[2].code",
        "no counter serves 'DEFUN'",
        'code = "DEFUN"',
    ),
    "counter without services": (
        'services = ["ACTA"]',
        "services = []",
        "counters[0].services",
        "at least one service",
    ),
    "service twice in a counter": (
        'services = ["ACTA"]',
        'services = ["ACTA", "ACTA"]',
        "counters[0].services[1]",
        "'ACTA' is listed twice",
    ),
    "unknown counter agency": (
        'agency = "rc"\nservices',
        'agency = "rpp"\nservices',
        "counters[0].agency",
        "unknown agency 'rpp'",
    ),
    "duplicate counter": (
        'id = "V02"',
        'id = "V01"',
        "counters[1].id",
        "duplicate id 'V01'",
        'id = "V01"\nname = "Ventanilla 2"',
    ),
    "counter name too long": (
        'name = "Ventanilla 1"',
        f'name = "{"x" * 101}"',
        "counters[0].name",
        "too long",
    ),
    "zone with unknown counter": (
        'counters = ["V01"]',
        'counters = ["V99"]',
        "zones[0].counters[0]",
        "unknown counter 'V99'",
    ),
    "zone with unknown service": (
        'services = ["AGUA"]\n\n[[printers]]',
        'services = ["XYZ"]\n\n[[printers]]',
        "zones[1].services[0]",
        "unknown service 'XYZ'",
    ),
    "empty zone": (
        'counters = ["V01"]',
        "counters = []",
        "zones[0]",
        "some counters or services",
        '[[zones]]\nid = "z1"',
    ),
    "duplicate zone": (
        'id = "z2"',
        'id = "z1"',
        "zones[1].id",
        "duplicate id 'z1'",
        'id = "z1"\nname = "Planta alta"',
    ),
    "printer kind": ('kind = "network"', 'kind = "bluetooth"', "printers[1].kind", "'usb'"),
    "network printer without host": (
        'host = "192.168.0.50"\n',
        "",
        "printers[1].host",
        "required",
        '[[printers]]\nid = "p2"',
    ),
    "port out of range": (
        'host = "192.168.0.50"',
        'host = "192.168.0.50"\nport = 70000',
        "printers[1].port",
        "between 1 and 65535",
        "port =",
    ),
    "key of another printer kind": (
        'path = "out/p1.bin"',
        'path = "out/p1.bin"\nhost = "10.0.0.1"',
        "printers[0].host",
        "not used by kind = 'file' printers",
        'host = "10.0.0.1"',
    ),
    "usb printer without product id": (
        'kind = "network"\nhost = "192.168.0.50"',
        'kind = "usb"\nvendor_id = 0x04b8',
        "printers[1].product_id",
        "required",
        '[[printers]]\nid = "p2"',
    ),
    "usb id out of range": (
        'kind = "network"\nhost = "192.168.0.50"',
        'kind = "usb"\nvendor_id = 0x1ffff\nproduct_id = 1',
        "printers[1].vendor_id",
        "between 0 and 65535",
        "vendor_id =",
    ),
    "serial printer without device": (
        'kind = "network"\nhost = "192.168.0.50"',
        'kind = "serial"\nbaudrate = 19200',
        "printers[1].device",
        "required",
        '[[printers]]\nid = "p2"',
    ),
    "cups printer without queue": (
        'kind = "network"\nhost = "192.168.0.50"',
        'kind = "cups"',
        "printers[1].queue",
        "required",
        '[[printers]]\nid = "p2"',
    ),
    "paper width": (
        'host = "192.168.0.50"',
        'host = "192.168.0.50"\npaper_width_mm = 70',
        "printers[1].paper_width_mm",
        "58 or 80",
        "paper_width_mm =",
    ),
    "duplicate printer": (
        'id = "p2"',
        'id = "p1"',
        "printers[1].id",
        "duplicate id 'p1'",
        'id = "p1"\nkind = "network"',
    ),
    "retry every 0 seconds": (
        "retry_seconds = 10",
        "retry_seconds = 0",
        "printing.retry_seconds",
        "between 1 and 3600, got 0",
    ),
    "give up after 0 minutes": (
        "give_up_after_minutes = 20",
        "give_up_after_minutes = 0",
        "printing.give_up_after_minutes",
        "between 1 and 1440",
    ),
    "give up before the first retry": (
        "retry_seconds = 10\ngive_up_after_minutes = 20",
        "retry_seconds = 600\ngive_up_after_minutes = 10",
        "printing.give_up_after_minutes",
        "must leave time for a retry",
        "give_up_after_minutes = 10",
    ),
    "give-up choice": (
        'on_give_up = "keep"',
        'on_give_up = "retry"',
        "printing.on_give_up",
        "'cancel', 'keep'",
    ),
    "missing logo": (
        'on_give_up = "keep"',
        'on_give_up = "keep"\nlogo = "logo.png"',
        "printing.logo",
        "no such file",
        "logo =",
    ),
    "logo that is not an image": (
        'on_give_up = "keep"',
        'on_give_up = "keep"\nlogo = "config.toml"',
        "printing.logo",
        "not an image",
        "logo =",
    ),
    "unknown printing key": (
        "retry_seconds = 10",
        "retry_secs = 10",
        "printing.retry_secs",
        "did you mean 'retry_seconds'?",
    ),
    "kiosk with unknown agency": (
        'agencies = ["agua"]',
        'agencies = ["agua", "sat"]',
        "kiosks[1].agencies[1]",
        "unknown agency 'sat'",
    ),
    "kiosk without agencies": (
        'agencies = ["agua"]',
        "agencies = []",
        "kiosks[1].agencies",
        "at least one agency",
    ),
    "duplicate kiosk": (
        'id = "k2"',
        'id = "k1"',
        "kiosks[1].id",
        "duplicate id 'k1'",
        'id = "k1"\nname = "Kiosco 2"',
    ),
    "missing required key": ('name = "CSA de prueba"\n', "", "csa.name", "required", "[csa]"),
}


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_each_rule_rejects_one_bad_value_naming_its_key_and_line(tmp_path, rule):
    old, new, key, fragment, *line_needle = rule
    text = _edit(MINIMAL, old, new)

    error = _error(tmp_path, text)

    assert error.key == key
    assert fragment in error.message
    needle = line_needle[0] if line_needle else new.split("\n")[0]
    assert error.line == _line_of(text, needle)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "missing.toml"))
    error = info.value

    assert "cannot read the file" in error.message and error.line is None


# --- ConfigError -----------------------------------------------------------------------------


def test_a_config_error_reads_like_a_compiler_message():
    error = ConfigError("unknown service 'XYZ'", "counters[3].services[1]", 42, "config.toml")

    assert str(error) == "config.toml:42: counters[3].services[1]: unknown service 'XYZ'"
    assert str(ConfigError("must not be empty", "csa.name")) == "csa.name: must not be empty"


def test_a_config_error_keeps_its_fields_through_pickling():
    error = ConfigError("bad", "csa.name", 3, "config.toml")

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.message, copy.key, copy.line, copy.path) == ("bad", "csa.name", 3, "config.toml")


# --- the line locator ------------------------------------------------------------------------

LOCATOR_TEXT = """# comment [[counters]]
title = "x"

[csa]
name = "CSA"
hours = { opens = "08:00", closes = "15:00" }

[rules]
preferential.every = 1

[[ counters ]]  # the first counter
id = "V01"
services = ["A"]

[[counters]]
id = "V02"
"services" = [
  "A",
  "B",
]
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("counters", 1, "services", 1), 17),
        (("counters", 0, "services"), 13),
        (("counters", 1), 15),
        (("counters", 0, "name"), 11),
        (("csa", "hours", "closes"), 6),
        (("rules", "preferential", "every"), 9),
        (("title",), 2),
        (("csa",), 4),
        (("counters", 5, "id"), None),
        (("zones", 0, "id"), None),
    ],
)
def test_the_line_locator_finds_the_key_in_the_nth_table_or_falls_back_to_its_header(path, line):
    assert locate(LOCATOR_TEXT, path) == line


def test_the_line_locator_finds_sub_tables_written_as_headers():
    text = "[rules]\nmax_recalls = 3\n\n[rules.preferential]\nmode = 'cap'\nevery = 1\n"

    assert locate(text, ("rules", "preferential", "every")) == 6
    assert locate(text, ("rules", "preferential", "missing")) == 4
    assert locate(text, ("rules", "max_recalls")) == 2


def test_the_line_locator_finds_arrays_written_inline():
    text = '[csa]\nname = "x"\n'
    text = 'counters = [\n  { id = "V01" },\n]\n' + text

    assert locate(text, ("counters", 0, "id")) == 1


def test_zones_announce_at_full_volume_in_mexican_spanish_unless_told_otherwise(tmp_path):
    zone = _load(tmp_path, MINIMAL).zone("z1")

    assert (zone.volume, zone.voice) == (100, "es-MX")


def test_a_zone_sets_its_announcement_volume_and_voice(tmp_path):
    text = _edit(MINIMAL, 'name = "Planta alta"\n',
                 'name = "Planta alta"\nvolume = 40\nvoice = "es-ES"\n')

    zone = _load(tmp_path, text).zone("z2")

    assert (zone.volume, zone.voice) == (40, "es-ES")


@pytest.mark.parametrize(("line", "message"), [
    ("volume = 101", "must be between 0 and 100, got 101"),
    ("volume = -1", "must be between 0 and 100, got -1"),
    ('volume = "alto"', "expected an integer, got a string"),
    ('voice = "en-US"', "must be a Spanish language tag such as 'es-MX', got 'en-US'"),
    ('voice = "Paulina"', "must be a Spanish language tag"),
])
def test_a_bad_zone_volume_or_voice_names_the_file_line_and_key(tmp_path, line, message):
    text = _edit(MINIMAL, 'name = "Planta alta"\n', f'name = "Planta alta"\n{line}\n')

    error = _error(tmp_path, text)

    assert error.key == f"zones[1].{line.split(' ')[0]}"
    assert message in error.message
    assert error.line == _line_of(text, line)
