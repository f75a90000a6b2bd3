"""The Spanish the hall display speaks: numbers, ticket numbers, counter names, sentences."""

from __future__ import annotations

import pytest

from server.config import load_config
from server.domain.speech import (
    call_sentence,
    counter_words,
    digits_words,
    number_words,
    ticket_words,
)
from tests.conftest import DEMO_CONFIG


@pytest.mark.parametrize(("n", "words"), [
    (0, "cero"),
    (1, "uno"),
    (7, "siete"),
    (10, "diez"),
    (15, "quince"),
    (16, "dieciséis"),
    (20, "veinte"),
    (21, "veintiuno"),
    (22, "veintidós"),
    (23, "veintitrés"),
    (26, "veintiséis"),
    (30, "treinta"),
    (31, "treinta y uno"),
    (42, "cuarenta y dos"),
    (99, "noventa y nueve"),
    (100, "cien"),
    (101, "ciento uno"),
    (115, "ciento quince"),
    (200, "doscientos"),
    (342, "trescientos cuarenta y dos"),
    (500, "quinientos"),
    (555, "quinientos cincuenta y cinco"),
    (700, "setecientos"),
    (999, "novecientos noventa y nueve"),
    (1000, "mil"),
    (1001, "mil uno"),
    (1100, "mil cien"),
    (2024, "dos mil veinticuatro"),
    (21000, "veintiún mil"),
    (31000, "treinta y un mil"),
    (101000, "ciento un mil"),
    (999999, "novecientos noventa y nueve mil novecientos noventa y nueve"),
])
def test_numbers_are_spoken_as_people_say_them(n: int, words: str):
    assert number_words(n) == words


@pytest.mark.parametrize("n", [-1, 1_000_000])
def test_numbers_outside_the_spoken_range_are_refused(n: int):
    with pytest.raises(ValueError):
        number_words(n)


@pytest.mark.parametrize(("digits", "words"), [
    ("042", "cero cuarenta y dos"),
    ("007", "cero cero siete"),
    ("100", "cien"),
    ("000", "cero cero cero"),
    ("1000", "mil"),
])
def test_printed_digits_keep_their_leading_zeros_aloud(digits: str, words: str):
    assert digits_words(digits) == words


@pytest.mark.parametrize(("number", "words"), [
    ("A-042", "A cero cuarenta y dos"),
    ("A-007", "A cero cero siete"),
    ("A-100", "A cien"),
    ("A-001", "A cero cero uno"),
    ("A-021", "A cero veintiuno"),
    ("T-116", "T ciento dieciséis"),
    ("A-1000", "A mil"),
    ("LN-007", "L N cero cero siete"),
])
def test_a_ticket_number_is_spoken_letter_by_letter_then_as_printed(number: str, words: str):
    assert ticket_words(number) == words


@pytest.mark.parametrize("number", ["A042", "a-042", "A-", "ABC-001", "A-04x", "A-0420000"])
def test_something_that_is_not_a_ticket_number_is_refused(number: str):
    with pytest.raises(ValueError):
        ticket_words(number)


@pytest.mark.parametrize(("name", "words"), [
    ("Ventanilla 12", "la ventanilla doce"),
    ("Ventanilla 1", "la ventanilla uno"),
    ("Ventanilla 21", "la ventanilla veintiuno"),
    ("Módulo 3B", "el módulo tres B"),
    ("Caja 4", "la caja cuatro"),
    ("Ventanilla 07", "la ventanilla siete"),
    ("Recepción", "Recepción"),
    ("Sala B", "la sala B"),
])
def test_a_counter_name_gets_its_article_and_its_numbers_in_words(name: str, words: str):
    assert counter_words(name) == words


def test_every_counter_of_the_demo_csa_can_be_announced():
    for counter in load_config(DEMO_CONFIG).counters:
        spoken = counter_words(counter.name)
        assert spoken.startswith("la ventanilla ") and not any(ch.isdigit() for ch in spoken)


def test_the_call_sentence_names_the_ticket_then_where_to_go():
    assert call_sentence("A-042", "Ventanilla 12") == (
        "Turno A cero cuarenta y dos, pase a la ventanilla doce")


def test_a_masculine_counter_contracts_a_el_to_al():
    assert call_sentence("B-100", "Módulo 3B") == "Turno B cien, pase al módulo tres B"
