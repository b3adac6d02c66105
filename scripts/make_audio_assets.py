"""One-off: synthesise the spoken-digit clips that the `audio` challenge ships.

For each language (English `en`, Mandarin `cmn`) and each digit 0-9 it runs Debian's espeak-ng in a
few voice variants (voice, pitch, speed), has sox trim the silence and resample to 8 kHz mono, then
peak-normalises each clip and stores all of them, G.711 mu-law coded, in one compressed
`digits-<lang>.npz` per language under humangate/challenges/assets/. The runtime never needs
espeak-ng or sox.

Run (needs `apt-get install espeak-ng sox`):
    .venv/bin/python scripts/make_audio_assets.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "humangate" / "challenges" / "assets"
RATE = 8000
WORDS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "zh": ("零", "一", "二", "三", "四", "五", "六", "七", "八", "九"),
}
# (espeak-ng voice, pitch 0-99, speed in words per minute): male and female, slow and brisk.
VARIANTS = {
    "en": (
        ("en-us+m3", 40, 140),
        ("en-us+f3", 62, 135),
        ("en+m1", 48, 150),
        ("en-us+f2", 72, 125),
        ("en-us+m7", 30, 145),
        ("en-us+f4", 55, 150),
        ("en+m5", 36, 130),
        ("en-us+klatt", 50, 140),
    ),
    "zh": (
        ("cmn+m3", 42, 135),
        ("cmn+f3", 62, 125),
        ("cmn+m1", 48, 145),
        ("cmn+f2", 72, 120),
        ("cmn+m7", 32, 135),
        ("cmn+f4", 56, 140),
        ("cmn+m5", 38, 125),
        ("cmn+klatt", 50, 130),
    ),
}
_TRIM = ["silence", "1", "0.02", "0.8%", "reverse", "silence", "1", "0.02", "0.8%", "reverse"]


def mulaw_encode(x: np.ndarray) -> np.ndarray:
    """G.711-style continuous mu-law (mu = 255) of floats in [-1, 1] to uint8."""
    y = np.sign(x) * np.log1p(255.0 * np.abs(x)) / np.log1p(255.0)
    return np.clip(np.round((y + 1.0) * 127.5), 0, 255).astype(np.uint8)


def synthesise(text: str, voice: str, pitch: int, speed: int, work: Path) -> np.ndarray:
    """One clip as float32 in [-1, 1] at RATE Hz, silence trimmed, peak at 0.95."""
    raw, trimmed = work / "raw.wav", work / "trimmed.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(raw), text],
        check=True,
    )
    subprocess.run(
        [
            "sox",
            "-D",
            str(raw),
            "-r",
            str(RATE),
            "-c",
            "1",
            "-b",
            "16",
            str(trimmed),
            "gain",
            "-6",
            *_TRIM,
        ],
        check=True,
    )
    with wave.open(str(trimmed), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
    pcm *= 0.95 / max(float(np.abs(pcm).max()), 1.0)
    return pcm


def build(lang: str, work: Path) -> dict[str, np.ndarray]:
    clips, digits, variants = [], [], []
    for digit, word in enumerate(WORDS[lang]):
        for index, (voice, pitch, speed) in enumerate(VARIANTS[lang]):
            clips.append(mulaw_encode(synthesise(word, voice, pitch, speed, work)))
            digits.append(digit)
            variants.append(index)
    lengths = np.array([len(c) for c in clips], dtype=np.int32)
    return {
        "rate": np.array(RATE, dtype=np.int32),
        "samples": np.concatenate(clips),
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32),
        "digits": np.array(digits, dtype=np.int8),
        "variants": np.array(variants, dtype=np.int8),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install espeak-ng sox")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for lang in WORDS:
            arrays = build(lang, Path(tmp))
            path = args.out / f"digits-{lang}.npz"
            np.savez_compressed(path, **arrays)
            seconds = len(arrays["samples"]) / RATE
            print(f"{path.name}: {len(arrays['digits'])} clips, {seconds:.1f} s, "
                  f"{path.stat().st_size} bytes")  # fmt: skip


if __name__ == "__main__":
    main()
