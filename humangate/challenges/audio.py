"""Spoken digits under noise: the accessible alternative to the image challenges.

The payload is `{audio, length, language, duration_ms}`: an 8-bit PCM WAV (data URL, plays in
every browser) of `length` digits spoken in English or Mandarin, and the private answer is
`{"text": "53817"}`. The clips come from the package's own assets (espeak-ng renderings made
offline by scripts/make_audio_assets.py; see assets/README.md), so the runtime needs no TTS.

What a person hears: one clear voice reading the digits with uneven pauses, over a quieter crowd
of other digit clips (babble) and pink or brown noise. Each spoken digit is resampled by a random
factor (pitch and speed together), its gain nudged, and the voice may change between digits.
Digits only: spoken English letters fall into rhyming sets (b c d e g p t v z) too easy to
confuse under noise, so they are left out.

What a solver meets: babble made of the same kind of clips makes ASR and template matching find
extra digits; the resampling keeps any clip from matching a shipped one sample for sample. The
shipped clips are public, so an attacker who slides them along the mixture in MFCC space still
wins a share that falls with `level`: see bench/adversary/audio.py. All randomness comes from
`rng`; the same seed gives the same bytes.
"""

from __future__ import annotations

import base64
import io
import math
import random
import unicodedata
import wave
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from humangate.challenges.base import JSON, Challenge, CheckResult, check_integers

LANGUAGES = ("en", "zh")
SAMPLE_RATES = (8000, 16000)
MAX_SUBMISSION_CHARS = 64
MAX_LENGTH = 10
_ASSET_RATE = 8000

# Per level: babble gain (dB below the voice), babble streams, noise SNR (dB), resampling jitter.
_Level = tuple[float, int, float, float]
_LEVELS: tuple[_Level, ...] = (
    (-20.0, 1, 26.0, 0.05),
    (-16.0, 1, 21.0, 0.07),
    (-13.0, 2, 17.0, 0.09),
    (-11.0, 2, 14.0, 0.11),
    (-9.0, 3, 11.0, 0.13),
)

# Chinese numerals a person may type for a digit, lower-case and financial forms alike.
_CHINESE = {
    **dict.fromkeys("零〇", 0), **dict.fromkeys("一幺壹", 1), **dict.fromkeys("二两贰貳", 2),
    **dict.fromkeys("三叁參", 3), **dict.fromkeys("四肆", 4), **dict.fromkeys("五伍", 5),
    **dict.fromkeys("六陆陸", 6), **dict.fromkeys("七柒", 7), **dict.fromkeys("八捌", 8),
    **dict.fromkeys("九玖", 9),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AudioParams:
    """`length` digits in `language` ("en" or "zh"); `level` 0..4 raises babble, noise and
    jitter; `sample_rate` of the WAV, 8000 or 16000 Hz (the clips are 8 kHz speech)."""

    length: int = 5
    language: str = "en"
    level: int = 2
    sample_rate: int = 8000

    def __post_init__(self) -> None:
        check_integers(self, ("length", 1, MAX_LENGTH), ("level", 0, len(_LEVELS) - 1))
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}")
        if self.sample_rate not in SAMPLE_RATES or isinstance(self.sample_rate, bool):
            raise ValueError(f"sample_rate must be one of {SAMPLE_RATES}")


@dataclass(frozen=True, slots=True)
class ClipBank:
    """The shipped clips of one language as float32 in [-1, 1] at 8 kHz (read-only)."""

    clips: tuple[np.ndarray, ...]
    digits: tuple[int, ...]
    variants: tuple[int, ...]

    def of_digit(self, digit: int) -> list[int]:
        return [i for i, d in enumerate(self.digits) if d == digit]


def mulaw_decode(codes: np.ndarray) -> np.ndarray:
    """uint8 continuous mu-law (mu = 255) back to float32 in [-1, 1]."""
    y = codes.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    decoded: np.ndarray = (np.sign(y) * np.expm1(np.abs(y) * np.log1p(255.0)) / 255.0).astype(
        np.float32
    )
    return decoded


@lru_cache(maxsize=len(LANGUAGES))
def load_bank(language: str) -> ClipBank:
    """The clip bank of `language`, decoded once per process."""
    path = resources.files("humangate.challenges") / "assets" / f"digits-{language}.npz"
    with path.open("rb") as fh, np.load(fh) as data:
        if int(data["rate"]) != _ASSET_RATE:
            raise ValueError(f"{path} is not {_ASSET_RATE} Hz")
        samples, offsets = mulaw_decode(data["samples"]), data["offsets"]
        digits, variants = data["digits"].tolist(), data["variants"].tolist()
    clips = tuple(samples[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True))
    for clip in clips:
        clip.setflags(write=False)
    return ClipBank(clips, tuple(digits), tuple(variants))


def _resample(clip: np.ndarray, step: float) -> np.ndarray:
    """`clip` read every `step` input samples (linear interpolation): pitch and tempo together."""
    positions = np.arange(0.0, len(clip) - 1, step, dtype=np.float64)
    resampled: np.ndarray = np.interp(positions, np.arange(len(clip)), clip).astype(np.float32)
    return resampled


def _rms(x: np.ndarray) -> float:
    return math.sqrt(float(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _coloured_noise(gen: np.random.Generator, n: int, brown: bool) -> np.ndarray:
    """Pink (1/f) or brown (1/f^2) noise of unit RMS, shaped in the frequency domain."""
    spectrum = np.fft.rfft(gen.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    spectrum /= freqs if brown else np.sqrt(freqs)
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n).astype(np.float32)
    return noise / max(_rms(noise), 1e-9)


def _voice_track(rng: random.Random, bank: ClipBank, digits: list[int], rate: int,
                 jitter: float) -> tuple[np.ndarray, list[tuple[int, int]]]:  # fmt: skip
    """The foreground: each digit spoken by one of two voices, resampled and placed with uneven
    pauses. Returns the track and each digit's (start, end) sample span."""
    voices = rng.sample(sorted(set(bank.variants)), 2)
    pieces, spans, pos = [], [], int(rate * rng.uniform(0.25, 0.5))
    for digit in digits:
        voice = voices[0] if rng.random() < 0.7 else voices[1]
        index = next(i for i in bank.of_digit(digit) if bank.variants[i] == voice)
        step = _ASSET_RATE / rate * rng.uniform(1.0 - jitter, 1.0 + jitter)
        clip = _resample(bank.clips[index], step) * np.float32(10 ** (rng.uniform(-2, 2) / 20))
        pieces.append((pos, clip))
        spans.append((pos, pos + len(clip)))
        pos += len(clip) + int(rate * rng.uniform(0.22, 0.55))
    track = np.zeros(pos + int(rate * rng.uniform(0.0, 0.2)), dtype=np.float32)
    for start, clip in pieces:
        track[start : start + len(clip)] += clip
    return track, spans


def _babble(rng: random.Random, banks: list[ClipBank], n: int, rate: int, streams: int
            ) -> np.ndarray:  # fmt: skip
    """`streams` back-to-back runs of random digit clips (random voices, speeds, offsets)."""
    out = np.zeros(n, dtype=np.float32)
    for _ in range(streams):
        pos = -int(rate * rng.uniform(0.0, 0.5))
        while pos < n:
            bank = rng.choice(banks)
            step = _ASSET_RATE / rate * rng.uniform(0.8, 1.25)
            clip = _resample(rng.choice(bank.clips), step)
            lo, hi = max(pos, 0), min(pos + len(clip), n)
            if hi > lo:
                out[lo:hi] += clip[lo - pos : hi - pos] * np.float32(rng.uniform(0.6, 1.0))
            pos += len(clip) + int(rate * rng.uniform(-0.1, 0.25))
    return out


def _mix(rng: random.Random, voice: np.ndarray, spans: list[tuple[int, int]],
         babble: np.ndarray, level: _Level) -> np.ndarray:  # fmt: skip
    babble_db, _, snr_db, _ = level
    speech = _rms(np.concatenate([voice[a:b] for a, b in spans]))
    gen = np.random.Generator(np.random.PCG64(rng.getrandbits(128)))
    noise = _coloured_noise(gen, len(voice), brown=rng.random() < 0.4)
    babble_gain = (
        speech * 10 ** ((babble_db + rng.uniform(-1.5, 1.5)) / 20) / max(_rms(babble), 1e-9)
    )
    noise_gain = speech * 10 ** (-(snr_db + rng.uniform(-1.5, 1.5)) / 20)
    mixed = voice + babble * np.float32(babble_gain) + noise * np.float32(noise_gain)
    return mixed * np.float32(0.9 / max(float(np.abs(mixed).max()), 1e-9))


def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    """Mono 8-bit unsigned PCM WAV: the RIFF header, `fmt ` and `data` chunks, nothing else."""
    pcm = np.clip(np.round(samples * 127.0 + 128.0), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def generate_audio(rng: random.Random, params: AudioParams) -> Challenge:
    """Create a spoken-digits challenge; every sample comes from `rng` and the shipped clips."""
    level = _LEVELS[params.level]
    bank = load_bank(params.language)
    other = load_bank(LANGUAGES[1 - LANGUAGES.index(params.language)])
    digits = [rng.randrange(10) for _ in range(params.length)]
    voice, spans = _voice_track(rng, bank, digits, params.sample_rate, level[3])
    babble = _babble(rng, [bank, bank, other], len(voice), params.sample_rate, level[1])
    wav = encode_wav(_mix(rng, voice, spans, babble, level), params.sample_rate)
    payload = {
        "audio": "data:audio/wav;base64," + base64.b64encode(wav).decode("ascii"),
        "length": params.length,
        "language": params.language,
        "duration_ms": round(1000 * len(voice) / params.sample_rate),
    }
    return Challenge(kind="audio", payload=payload, answer={"text": "".join(map(str, digits))})


def normalise(text: str) -> str | None:
    """`text` as ASCII digits: spaces and dashes dropped, any Unicode decimal digit (full-width
    and the like) and Chinese numerals read as digits. None if anything else is left."""
    out = []
    for char in text:
        if char.isspace() or unicodedata.category(char) == "Pd" or char == "\u2212":
            continue
        if char in _CHINESE:
            out.append(str(_CHINESE[char]))
        elif char.isdecimal():
            out.append(str(unicodedata.decimal(char)))
        else:
            return None
    return "".join(out)


def _submitted_text(submission: object) -> str | None:
    if isinstance(submission, dict):
        submission = submission.get("text")
    if not isinstance(submission, str) or len(submission) > MAX_SUBMISSION_CHARS:
        return None
    text = normalise(submission)
    return text or None


def check_audio(answer: JSON, submission: object, trajectory: object = None) -> CheckResult:
    """Pass when the submitted digits equal the answer's. `trajectory` is ignored (accepted for a
    uniform checker signature).

    Error codes: "invalid-challenge" (bad stored answer), "invalid-answer" (not a string or
    `{"text": str}`, over 64 characters, empty, or holding anything but digits, Chinese numerals,
    spaces and dashes), "wrong-answer". Never raises.
    """
    expected = answer.get("text") if isinstance(answer, dict) else None
    if (
        not isinstance(expected, str)
        or not 1 <= len(expected) <= MAX_LENGTH
        or not expected.isascii()
        or not expected.isdigit()
    ):
        return CheckResult.fail("invalid-challenge")
    text = _submitted_text(submission)
    if text is None:
        return CheckResult.fail("invalid-answer")
    if text != expected:
        return CheckResult.fail("wrong-answer")
    return CheckResult.ok()
