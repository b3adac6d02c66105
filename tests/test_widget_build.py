"""The checked-in humangate/static/humangate.js and the vendor shims (humangate/static/shims/)
are exactly what widget/build.mjs produces."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDGET = ROOT / "widget"
STATIC = ROOT / "humangate" / "static"
BUILT = STATIC / "humangate.js"
SHIMS = ("shims/recaptcha.js", "shims/hcaptcha.js", "shims/turnstile.js")
# Every kind, two languages and the risk signals (environment, traces, gesture, the worker's
# integrity probe): 14 KiB.
GZIP_BUDGET = 14 * 1024
# A shim is the widget and a thin adapter to the vendor's API: at most 1.5 KiB more.
SHIM_GZIP_BUDGET = GZIP_BUDGET + 1536


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Every output of the build, under a fresh folder, and what the build printed."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the widget build needs Node.js 18+.", pytrace=False)
    if not (WIDGET / "node_modules" / "esbuild").is_dir():
        pytest.fail("widget/node_modules is missing: run `npm ci --prefix widget`.", pytrace=False)
    out = tmp_path_factory.mktemp("widget")
    proc = subprocess.run(
        [node, str(WIDGET / "build.mjs"), "--outdir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


@pytest.fixture(scope="module")
def rebuilt(built: tuple[Path, str]) -> tuple[bytes, str]:
    out, stdout = built
    return (out / "humangate.js").read_bytes(), stdout


def test_checked_in_build_is_fresh(rebuilt: tuple[bytes, str]) -> None:
    code, _ = rebuilt
    assert code == BUILT.read_bytes(), (
        "humangate/static/humangate.js is stale: run `node widget/build.mjs` and commit the result."
    )


def test_build_reports_raw_and_gzipped_size(rebuilt: tuple[bytes, str]) -> None:
    code, stdout = rebuilt
    match = re.search(r"humangate\.js: (\d+) bytes raw, (\d+) bytes gzipped", stdout)
    assert match, f"the build should print its sizes, printed: {stdout!r}"
    assert int(match.group(1)) == len(code)
    # Node's bundled zlib and Python's differ by a few bytes per kilobyte at the same level.
    python_gzip = len(gzip.compress(code, 9))
    assert abs(int(match.group(2)) - python_gzip) <= max(64, python_gzip // 50)
    assert int(match.group(2)) < GZIP_BUDGET, "the widget grew past its gzip budget"


def test_bundle_is_a_plain_es2019_script(rebuilt: tuple[bytes, str]) -> None:
    text = rebuilt[0].decode("ascii")  # esbuild escapes non-ASCII: no charset surprises
    assert text.startswith("/*! HumanGate widget ")
    assert "import " not in text and "export " not in text
    for es2020_plus in ("?.", "??"):
        assert es2020_plus not in text.replace("?.5", ""), f"{es2020_plus} is newer than ES2019"


@pytest.mark.parametrize("shim", SHIMS)
def test_shims_are_fresh_small_es2019_scripts(built: tuple[Path, str], shim: str) -> None:
    out, stdout = built
    code = (out / shim).read_bytes()
    assert code == (STATIC / shim).read_bytes(), (
        f"humangate/static/{shim} is stale: run `node widget/build.mjs` and commit the result."
    )
    match = re.search(re.escape(shim) + r": (\d+) bytes raw, (\d+) bytes gzipped", stdout)
    assert match and int(match.group(1)) == len(code)
    assert int(match.group(2)) < SHIM_GZIP_BUDGET, f"{shim} grew past its gzip budget"
    text = code.decode("ascii")
    assert text.startswith("/*! HumanGate ") and " shim " in text.splitlines()[0]
    assert "import " not in text and "export " not in text
    for es2020_plus in ("?.", "??"):
        assert es2020_plus not in text.replace("?.5", ""), f"{es2020_plus} is newer than ES2019"
