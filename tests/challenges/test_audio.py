"""Audio challenges: spoken digits under babble and noise from shipped clips, and a checker that
never raises."""

from __future__ import annotations

import base64
import io
import json
import math
import random
import struct
import wave
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humangate.challenges import audio
from humangate.challenges.audio import (
    LANGUAGES,
    AudioParams,
    check_audio,
    generate_audio,
    load_bank,
    normalise,
)
from humangate.challenges.base import CheckResult
from tests.strategies import json_values

PAYLOAD_KEYS = {"audio", "length", "language", "duration_ms"}


def make(seed: int = 1, **overrides: object):
    return generate_audio(random.Random(seed), AudioParams(**overrides))  # type: ignore[arg-type]


def wav_bytes(data_url: str) -> bytes:
    assert data_url.startswith("data:audio/wav;base64,")
    return base64.b64decode(data_url.split(",", 1)[1], validate=True)


def samples(data_url: str) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav_bytes(data_url)), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 1)
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.uint8)
        return pcm.astype(np.float32) - 128, w.getframerate()


def riff_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks, i = [], 12
    while i + 8 <= len(data):
        tag, (size,) = data[i : i + 4], struct.unpack("<I", data[i + 4 : i + 8])
        chunks.append(tag)
        i += 8 + size + (size & 1)
    return chunks


# --- assets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_ships_every_digit_in_several_voices(language: str) -> None:
    bank = load_bank(language)
    assert sorted(set(bank.digits)) == list(range(10))
    for digit in range(10):
        voices = {bank.variants[i] for i in bank.of_digit(digit)}
        assert len(voices) >= 4 and voices == set(bank.variants)
    for clip in bank.clips:
        assert 0.2 * 8000 <= len(clip) <= 1.0 * 8000  # trimmed single words
        assert 0.5 <= float(np.abs(clip).max()) <= 1.0
        assert not clip.flags.writeable


def test_audio_assets_stay_small() -> None:
    folder = resources.files("humangate.challenges") / "assets"
    sizes = [f.stat().st_size for f in folder.iterdir() if f.name.endswith(".npz")]
    assert len(sizes) == 2 and sum(sizes) < 1_000_000


def test_mulaw_decoding_is_monotonic_and_symmetric() -> None:
    decoded = audio.mulaw_decode(np.arange(256, dtype=np.uint8))
    assert (np.diff(decoded) > 0).all()
    assert decoded[0] == pytest.approx(-1.0) and decoded[255] == pytest.approx(1.0)


# --- generator -------------------------------------------------------------------------------


def test_different_seeds_give_different_audio_and_answers() -> None:
    challenges = [make(seed) for seed in range(10)]
    assert len({c.payload["audio"] for c in challenges}) == 10
    assert len({c.answer["text"] for c in challenges}) == 10


@pytest.mark.parametrize("language", LANGUAGES)
def test_payload_has_exactly_the_public_keys_and_is_json(language: str) -> None:
    challenge = make(3, language=language)
    assert challenge.kind == "audio"
    assert set(challenge.payload) == PAYLOAD_KEYS
    assert challenge.payload["length"] == 5 and challenge.payload["language"] == language
    assert set(challenge.answer) == {"text"}
    assert len(challenge.answer["text"]) == 5 and challenge.answer["text"].isdigit()
    assert json.loads(json.dumps(challenge.payload)) == challenge.payload


def test_golden_seed_1() -> None:
    assert make(1).answer == {"text": "29141"}
    assert make(1, language="zh").answer == {"text": "29141"}  # digits are drawn first


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("rate", [8000, 16000])
def test_wav_is_plain_8_bit_pcm_of_the_stated_duration(language: str, rate: int) -> None:
    challenge = make(2, language=language, sample_rate=rate)
    data = wav_bytes(challenge.payload["audio"])
    assert riff_chunks(data) == [b"fmt ", b"data"]  # no LIST/INFO or any other chunk
    assert struct.unpack("<H", data[20:22])[0] == 1  # PCM
    pcm, got_rate = samples(challenge.payload["audio"])
    assert got_rate == rate
    assert abs(1000 * len(pcm) / rate - challenge.payload["duration_ms"]) <= 1
    assert 2500 <= challenge.payload["duration_ms"] <= 7500
    assert len(data) <= 8 * rate  # at most 8 s of 8-bit mono


def test_answer_is_nowhere_in_the_payload() -> None:
    for seed in range(20):
        challenge = make(seed, language=LANGUAGES[seed % 2])
        text = json.dumps(challenge.payload)
        assert challenge.answer["text"] not in text
        assert challenge.answer["text"].encode() not in wav_bytes(challenge.payload["audio"])


@pytest.mark.parametrize("level", range(5))
def test_the_voice_stands_out_from_babble_and_noise(level: int) -> None:
    """A floor for intelligibility: the mixture is clearly louder where digits are spoken than
    in the pauses between them (replaying the generator's own spans)."""
    floor = 8.0 if level <= 2 else 5.0
    for seed in range(10):
        params = AudioParams(level=level, language=LANGUAGES[seed % 2])
        challenge = generate_audio(random.Random(seed), params)
        rng = random.Random(seed)
        digits = [rng.randrange(10) for _ in range(params.length)]
        _, spans = audio._voice_track(
            rng, load_bank(params.language), digits, params.sample_rate, audio._LEVELS[level][3]
        )
        pcm, _ = samples(challenge.payload["audio"])
        spoken = np.zeros(len(pcm), dtype=bool)
        for start, end in spans:
            spoken[start:end] = True
        ratio = np.mean(np.square(pcm[spoken])) / np.mean(np.square(pcm[~spoken]))
        assert 10 * math.log10(ratio) >= floor


def test_digits_follow_the_answer_in_order() -> None:
    rng = random.Random(4)
    digits = [rng.randrange(10) for _ in range(5)]
    assert make(4).answer["text"] == "".join(map(str, digits))


@pytest.mark.parametrize(
    "overrides",
    [{"length": 0}, {"length": 11}, {"length": True}, {"language": "fr"}, {"level": 5},
     {"level": -1}, {"level": 2.0}, {"length": 5.0}, {"sample_rate": 44100},
     {"sample_rate": 8000.5}],
)  # fmt: skip
def test_params_out_of_range_are_refused(overrides: dict) -> None:
    with pytest.raises(ValueError):
        AudioParams(**overrides)


@settings(max_examples=20, deadline=None)
@given(
    length=st.integers(1, 10),
    language=st.sampled_from(LANGUAGES),
    level=st.integers(0, 4),
    rate=st.sampled_from([8000, 16000]),
    seed=st.integers(0, 2**32),
)
def test_any_accepted_params_generate_a_consistent_challenge(length, language, level, rate, seed):
    params = AudioParams(length=length, language=language, level=level, sample_rate=rate)
    challenge = generate_audio(random.Random(seed), params)
    assert len(challenge.answer["text"]) == length
    pcm, got_rate = samples(challenge.payload["audio"])
    assert got_rate == rate and len(pcm) > 0
    assert check_audio(challenge.answer, challenge.answer["text"]).passed


# --- checker ---------------------------------------------------------------------------------


ANSWER = {"text": "53817"}


@pytest.mark.parametrize(
    "submission",
    ["53817", " 53817 ", "538-17", "5 3 8 1 7", "538\u201317", "５３８１７", "五三八一七",
     "伍叁捌壹柒", "5三8 1-七", "五 三 八 幺 七", "53817\u3000", {"text": "53817"},
     {"text": "五三八一七"}],
)  # fmt: skip
def test_check_accepts_the_digits_however_typed(submission: object) -> None:
    assert check_audio(ANSWER, submission) == CheckResult.ok()


@pytest.mark.parametrize("submission", ["53818", "5381", "538177", "35817", "五三八一八"])
def test_check_rejects_other_digits(submission: str) -> None:
    assert check_audio(ANSWER, submission).reason == "wrong-answer"


@pytest.mark.parametrize(
    "submission",
    [None, 53817, 53817.0, True, b"53817", ["53817"], {"x": "53817"}, {"text": 53817}, "",
     "   ", "- -", "5381a", "53.817", "53817!", "5" * 65, {"text": None}, "five three"],
)  # fmt: skip
def test_malformed_submissions_are_invalid(submission: object) -> None:
    assert check_audio(ANSWER, submission).reason == "invalid-answer"


def test_zero_variants_and_a_leading_zero() -> None:
    assert check_audio({"text": "01234"}, "〇一二三四").passed
    assert check_audio({"text": "01234"}, "零一两三四").passed
    assert check_audio({"text": "01234"}, "1234").reason == "wrong-answer"


@pytest.mark.parametrize(
    "answer", [{}, {"text": 53817}, {"text": ""}, {"text": "5381a"}, {"text": "５３８１７"},
               {"text": "1" * 11}, None, ["53817"]],
)  # fmt: skip
def test_a_broken_stored_answer_is_reported(answer: object) -> None:
    assert check_audio(answer, "53817").reason == "invalid-challenge"  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(answer=json_values | st.fixed_dictionaries({"text": st.text(max_size=12)}),
       submission=json_values, trajectory=json_values)  # fmt: skip
def test_check_never_raises_on_arbitrary_json(answer, submission, trajectory) -> None:
    result = check_audio(answer, submission, trajectory)
    assert isinstance(result, CheckResult)


@settings(max_examples=300, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=1, max_size=10),
    noise=st.lists(st.sampled_from([" ", "-", "\u2013", "\u3000", "\t"]), max_size=10),
    seed=st.integers(0, 1000),
)
def test_separators_anywhere_never_change_the_reading(digits: str, noise: list, seed: int):
    chars = list(digits)
    rng = random.Random(seed)
    for sep in noise:
        chars.insert(rng.randrange(len(chars) + 1), sep)
    typed = "".join(chars)
    assert normalise(typed) == digits
    assert check_audio({"text": digits}, typed).passed
