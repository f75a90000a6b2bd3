"""The espeak-ng audio cache: one file per sentence and voice, reused, and bounded in size."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from server.services.display import SpeechCache, SpeechUnavailable, espeak_voice

SENTENCE = "Turno A cero cuarenta y dos, pase a la ventanilla doce"


def test_a_sentence_is_synthesised_once_and_then_served_from_disk(tmp_path: Path):
    cache = SpeechCache(tmp_path)
    first = cache.audio(SENTENCE, "es-MX")
    made = first.stat().st_mtime_ns
    os.utime(first, ns=(made - 10**9, made - 10**9))

    again = cache.audio(SENTENCE, "es-MX")

    assert again == first and again.read_bytes()[:4] == b"RIFF"
    assert len(list(tmp_path.glob("*.wav"))) == 1


def test_each_voice_has_its_own_file(tmp_path: Path):
    cache = SpeechCache(tmp_path)
    assert cache.audio(SENTENCE, "es-MX") != cache.audio(SENTENCE, "es-ES")


def test_the_least_recently_used_files_go_when_the_cache_is_full(tmp_path: Path):
    cache = SpeechCache(tmp_path)
    sentences = [f"Turno A cero cero {n}, pase a la ventanilla uno" for n in
                 ("uno", "dos", "tres")]
    paths = []
    for sentence in sentences:
        paths.append(cache.audio(sentence, "es-MX"))
        time.sleep(0.01)
    cache.audio(sentences[0], "es-MX")  # used again: now the most recent
    cache.max_bytes = paths[0].stat().st_size + paths[2].stat().st_size + 1

    cache.audio("Turno B cien, pase a la ventanilla dos", "es-MX")

    left = set(tmp_path.glob("*.wav"))
    assert paths[1] not in left and paths[0] in left
    assert cache.size() <= cache.max_bytes + max(p.stat().st_size for p in left)


def test_a_failing_engine_leaves_no_half_written_file(tmp_path: Path):
    cache = SpeechCache(tmp_path, espeak="false")
    with pytest.raises(SpeechUnavailable):
        cache.audio(SENTENCE, "es-MX")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_engine_is_reported_the_same_way(tmp_path: Path):
    with pytest.raises(SpeechUnavailable):
        SpeechCache(tmp_path, espeak="no-such-espeak").audio(SENTENCE, "es-MX")


@pytest.mark.parametrize(("voice", "engine"), [("es-MX", "es-419"), ("es-US", "es-419"),
                                               ("es", "es"), ("es-ES", "es")])
def test_the_zone_voice_picks_espeak_ngs_spanish(voice: str, engine: str):
    assert espeak_voice(voice) == engine
