"""Write display/static/chime.wav: the two-note chime hall displays play before a call.

    python scripts/make_chime.py

Synthesised here (no recording, no third-party sound): a falling major third (E5, C5), each
note a sine with two soft overtones and an exponential decay, like a door chime. Mono, 16-bit,
22,050 Hz, about 1.6 s. The sound is part of Turnos and shares its licence.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
OUT = Path(__file__).resolve().parent.parent / "display" / "static" / "chime.wav"
# (start second, frequency Hz)
NOTES = ((0.0, 659.25), (0.45, 523.25))
LENGTH = 1.6
PEAK = 0.6


def sample(t: float) -> float:
    value = 0.0
    for start, freq in NOTES:
        if t < start:
            continue
        age = t - start
        envelope = math.exp(-age * 3.2) * min(1.0, age / 0.005)  # 5 ms attack, no click
        value += envelope * (math.sin(2 * math.pi * freq * age)
                             + 0.35 * math.sin(2 * math.pi * 2 * freq * age)
                             + 0.12 * math.sin(2 * math.pi * 3 * freq * age))
    return value


def main() -> None:
    samples = [sample(i / RATE) for i in range(int(LENGTH * RATE))]
    # Fade out the last 50 ms so the end does not click either.
    fade = int(0.05 * RATE)
    for i in range(fade):
        samples[-1 - i] *= i / fade
    scale = PEAK / max(abs(s) for s in samples)
    frames = b"".join(struct.pack("<h", round(s * scale * 32767)) for s in samples)
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    print(f"wrote {OUT.relative_to(OUT.parents[2])} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
