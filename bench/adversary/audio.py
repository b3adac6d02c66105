"""Solvers against the `audio` challenge; prints each one's success rate per language.

Success means the solver's digit string equals the answer (what `check_audio` requires). The
solvers see what a client sees (the WAV and the payload's `length` and `language`). Two threat
models:

* a public offline ASR: PocketSphinx's English model, which its PyPI wheel bundles, restricted to
  a digits grammar (no Mandarin model ships in any package, so it is English only);
* the worst case for shipped assets: the attacker has our clips (they are in the package) and
  matches them against the mixture: by waveform cross-correlation (naive), by cutting the
  loudest stretches and labelling each with its nearest clip in MFCC space, and by sliding every
  clip, at the generator's pitch range, along the mixture in MFCC space (strongest).

Run: `.venv/bin/python -m bench.adversary.audio --n 300 [--level 2]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
import time
import wave
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from bench.adversary.slide import wilson
from humangate.challenges.audio import LANGUAGES, AudioParams, generate_audio, load_bank

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_FRAME, _HOP = 200, 80  # 25 ms windows every 10 ms at 8 kHz
_STEPS = (0.86, 0.93, 1.0, 1.07, 1.14)  # resampling factors the template solvers try
_NORM_FRAMES = 24

Solver = Callable[[np.ndarray, int, str], str | None]


def decode_wav(data_url: str) -> tuple[np.ndarray, int]:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    with wave.open(io.BytesIO(raw), "rb") as w:
        rate, width, frames = w.getframerate(), w.getsampwidth(), w.readframes(w.getnframes())
    if width == 1:
        return (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128, rate
    return np.frombuffer(frames, "<i2").astype(np.float32) / 32768, rate


def to_8k(x: np.ndarray, rate: int) -> np.ndarray:
    return x if rate == 8000 else x[:: rate // 8000]


def resample(x: np.ndarray, step: float) -> np.ndarray:
    return np.interp(np.arange(0, len(x) - 1, step), np.arange(len(x)), x).astype(np.float32)


# --- features --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _mel_dct() -> tuple[np.ndarray, np.ndarray]:
    """A 24-band mel filterbank over 0-4 kHz (for a 256-point FFT) and a 13-term DCT-II."""
    mel = np.linspace(0, 2595 * np.log10(1 + 4000 / 700), 26)
    hz = 700 * (10 ** (mel / 2595) - 1)
    bins = np.floor(257 * hz / 8000).astype(int)
    bank = np.zeros((24, 129))
    for m in range(24):
        lo, mid, hi = bins[m], bins[m + 1], bins[m + 2]
        bank[m, lo : mid + 1] = np.linspace(0, 1, mid - lo + 1)
        bank[m, mid : hi + 1] = np.linspace(1, 0, hi - mid + 1)
    k = np.arange(24)
    dct = np.cos(np.pi / 24 * (k[None, :] + 0.5) * np.arange(1, 14)[:, None])
    return bank, dct


def frame_energy(x: np.ndarray) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(x, _FRAME)[::_HOP]
    return 10 * np.log10(np.mean(np.square(frames), axis=1) + 1e-8)


def mfcc(x: np.ndarray, centred: bool = True) -> np.ndarray:
    """(frames, 13) MFCCs without c0; mean-normalised over the clip when `centred`."""
    bank, dct = _mel_dct()
    if len(x) < _FRAME:
        x = np.pad(x, (0, _FRAME - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, _FRAME)[::_HOP] * np.hamming(_FRAME)
    power = np.square(np.abs(np.fft.rfft(frames, 256)))
    feats = np.log(power @ bank.T + 1e-6) @ dct.T
    return feats - feats.mean(axis=0) if centred else feats


def normalised(feats: np.ndarray) -> np.ndarray:
    """`feats` linearly resampled to _NORM_FRAMES frames and flattened."""
    src = np.linspace(0, len(feats) - 1, _NORM_FRAMES)
    cols = [np.interp(src, np.arange(len(feats)), feats[:, c]) for c in range(feats.shape[1])]
    return np.stack(cols, axis=1).reshape(-1)


@lru_cache(maxsize=len(LANGUAGES))
def clip_features(language: str) -> tuple[tuple[np.ndarray, int], ...]:
    """Raw MFCCs of every shipped clip at every resampling step in _STEPS, with its digit."""
    bank = load_bank(language)
    return tuple(
        (mfcc(resample(clip, step), centred=False), digit)
        for clip, digit in zip(bank.clips, bank.digits, strict=True)
        for step in _STEPS
    )


@lru_cache(maxsize=len(LANGUAGES))
def templates(language: str) -> tuple[np.ndarray, np.ndarray]:
    """Normalised MFCCs of every shipped clip at every step in _STEPS, and their digits."""
    rows = [normalised(feats - feats.mean(axis=0)) for feats, _ in clip_features(language)]
    return np.array(rows), np.array([digit for _, digit in clip_features(language)])


# --- solvers -----------------------------------------------------------------------------------


def _loudest_segments(x: np.ndarray, count: int) -> list[tuple[int, int]]:
    """`count` non-overlapping frame spans around the loudest peaks, each grown while the
    smoothed energy stays within 15 dB of its peak; in time order."""
    energy = np.convolve(frame_energy(x), np.ones(5) / 5, mode="same")
    free = np.ones(len(energy), dtype=bool)
    spans = []
    for _ in range(count):
        if not free.any():
            break
        peak = int(np.argmax(np.where(free, energy, -np.inf)))
        floor = energy[peak] - 15.0
        lo = hi = peak
        while lo > 0 and free[lo - 1] and energy[lo - 1] > floor:
            lo -= 1
        while hi < len(energy) - 1 and free[hi + 1] and energy[hi + 1] > floor:
            hi += 1
        free[max(0, lo - 5) : hi + 6] = False
        spans.append((lo, hi + 1))
    return sorted(spans)


def segment_nearest_clip(x: np.ndarray, count: int, language: str) -> str:
    """Strong: cut the `count` loudest stretches; label each with the nearest shipped clip."""
    rows, labels = templates(language)
    digits = []
    for lo, hi in _loudest_segments(x, count):
        segment = x[lo * _HOP : hi * _HOP + _FRAME]
        distances = np.sum(np.square(rows - normalised(mfcc(segment))), axis=1)
        digits.append(str(labels[int(np.argmin(distances))]))
    return "".join(digits)


Hit = tuple[float, int, int, int]  # (badness, start, end, digit); lower badness is better


def pick(hits: list[Hit], count: int) -> str:
    """Greedy: the best `count` hits overlapping no better one by 30% of the shorter; in time
    order."""
    chosen: list[Hit] = []
    for hit in sorted(hits):
        if all(
            min(hit[2], c[2]) - max(hit[1], c[1]) < 0.3 * min(hit[2] - hit[1], c[2] - c[1])
            for c in chosen
        ):
            chosen.append(hit)
        if len(chosen) == count:
            break
    return "".join(str(c[3]) for c in sorted(chosen, key=lambda c: c[1]))


def waveform_xcorr(x: np.ndarray, count: int, language: str) -> str:
    """Naive: normalised cross-correlation of the waveform with each shipped clip (as shipped);
    each clip's best place is a hit."""
    bank = load_bank(language)
    n = len(x) + max(len(c) for c in bank.clips)
    size = 1 << (n - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    energy = np.concatenate([[0.0], np.cumsum(np.square(x, dtype=np.float64))])
    hits = []
    for clip, digit in zip(bank.clips, bank.digits, strict=True):
        corr = np.fft.irfft(spectrum * np.conj(np.fft.rfft(clip, size)), size)[: len(x)]
        window = energy[np.minimum(np.arange(len(x)) + len(clip), len(x))] - energy[: len(x)]
        score = corr / (np.sqrt(window + 1e-6) * np.linalg.norm(clip))
        best = int(np.argmax(score))
        hits.append((-float(score[best]), best, best + len(clip), digit))
    return pick(hits, count)


def sliding_mfcc(x: np.ndarray, count: int, language: str) -> str:
    """Strongest: slide every shipped clip, at five resampling factors, along the mixture in
    MFCC space; each clip's 20 best places (mean squared distance per frame) are hits."""
    feats = mfcc(x, centred=False)
    n = len(feats)
    power = np.concatenate([[0.0], np.cumsum(np.sum(np.square(feats), axis=1))])
    hits = []
    for clip, digit in clip_features(language):
        width = len(clip)
        if width >= n:
            continue
        starts = np.arange(n - width + 1)
        lags = np.arange(width)
        cross = (feats @ clip.T)[starts[:, None] + lags[None, :], lags[None, :]].sum(axis=1)
        sq = power[starts + width] - power[starts] - 2 * cross + np.sum(np.square(clip))
        for start in np.argsort(sq)[:20]:
            hits.append((float(sq[start]) / width, int(start), int(start) + width, digit))
    return pick(hits, count)


def _pocketsphinx() -> Solver | None:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        return None
    grammar = "#JSGF V1.0;\ngrammar digits;\npublic <d> = ( " + " | ".join(WORDS) + " )+ ;\n"
    decoder = Decoder(samprate=16000, loglevel="FATAL")
    decoder.add_jsgf_string("digits", grammar)
    decoder.activate_search("digits")

    def solve(x: np.ndarray, count: int, language: str) -> str | None:
        if language != "en":
            return None
        pcm = (resample(x, 0.5) * 32000).astype("<i2").tobytes()  # the model is 16 kHz
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        words = hyp.hypstr.split() if hyp else []
        return "".join(str(WORDS.index(w)) for w in words if w in WORDS)

    return solve


def solvers() -> dict[str, Solver]:
    table: dict[str, Solver] = {}
    sphinx = _pocketsphinx()
    if sphinx is not None:
        table["pocketsphinx en-us, digit grammar"] = sphinx
    table["shipped clips: waveform xcorr"] = waveform_xcorr
    table["shipped clips: loudness cut + MFCC"] = segment_nearest_clip
    table["shipped clips: sliding MFCC"] = sliding_mfcc
    return table


def run(n: int, seed: int, level: int, rate: int) -> None:
    table = solvers()
    print(f"audio adversary: n={n} per language, seed={seed}, level={level}, {rate} Hz")
    print(f"{'language':8} {'solver':36} {'success':>8} {'95% Wilson CI':>16} "
          f"{'digits ok':>9} {'ms/each':>8}")  # fmt: skip
    for language in LANGUAGES:
        params = AudioParams(language=language, level=level, sample_rate=rate)
        wins, digit_hits, spent = dict.fromkeys(table, 0), dict.fromkeys(table, 0), {}
        sizes = []
        for i in range(n):
            challenge = generate_audio(random.Random(seed * 1_000_003 + i), params)
            x, got_rate = decode_wav(challenge.payload["audio"])
            x, truth = to_8k(x, got_rate), challenge.answer["text"]
            sizes.append(len(challenge.payload["audio"]))
            for name, solve in table.items():
                start = time.perf_counter()
                guess = solve(x, params.length, language) or ""
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
                wins[name] += guess == truth
                digit_hits[name] += sum(a == b for a, b in zip(guess, truth, strict=False))
        for name in table:
            if name.startswith("pocketsphinx") and language != "en":
                print(f"{language:8} {name:36} {'n/a (no Mandarin model bundled)':>35}")
                continue
            lo, hi = wilson(wins[name], n)
            digits = digit_hits[name] / (n * params.length)
            print(f"{language:8} {name:36} {wins[name] / n:8.1%} "
                  f"{f'[{lo:.1%}, {hi:.1%}]':>16} {digits:9.1%} "
                  f"{spent[name] / n * 1e3:8.1f}")  # fmt: skip
        lo, hi = wilson(0, n)
        print(f"{language:8} {'random digits (chance 0.001%)':36} {0:8.1%} "
              f"{f'[{lo:.1%}, {hi:.1%}]':>16}")  # fmt: skip
        print(f"{language:8} payload data URL: mean {np.mean(sizes) / 1024:.1f} KiB")
    if "pocketsphinx en-us, digit grammar" not in table:
        print("pocketsphinx: not installed, skipped (pip install pocketsphinx)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="challenges per language")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the challenge stream")
    parser.add_argument("--level", type=int, default=AudioParams().level, choices=range(5))
    parser.add_argument("--rate", type=int, default=8000, choices=(8000, 16000))
    args = parser.parse_args(argv)
    run(args.n, args.seed, args.level, args.rate)


if __name__ == "__main__":
    main()
