"""Machine facts printed at the top of every benchmark, so figures can be compared honestly."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def facts() -> dict[str, str]:
    import numpy
    import PIL
    from PIL import features

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} logical, {usable} usable by this process",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
        "libjpeg": f"libjpeg-turbo {features.version('libjpeg_turbo')}"
        if features.check_feature("libjpeg_turbo")
        else str(features.version("jpg")),
        "libwebp": str(features.version("webp")),
    }


def print_facts() -> None:
    for key, value in facts().items():
        print(f"{key:>8}: {value}")


if __name__ == "__main__":
    print_facts()
