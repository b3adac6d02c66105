"""The device class and the rule on one class shared by many networks of a unit."""

from __future__ import annotations

import pytest

from humangate.risk.environment import (
    AUTOMATION_REASONS,
    device_class,
    device_class_findings,
)
from humangate.risk.integrity import DEVICE_CLASS_NETWORKS, shared_device_class

HEADLESS = {"canvas": "1a2b3c4d", "webgl": "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))"}


def test_a_device_class_is_the_canvas_with_the_webgl_driver() -> None:
    assert device_class(HEADLESS) == device_class({**HEADLESS, "ua": "other", "scr": [1, 2]})
    assert device_class(HEADLESS) != device_class({**HEADLESS, "webgl": "llvmpipe"})
    assert device_class(HEADLESS) != device_class({**HEADLESS, "canvas": "1a2b3c4e"})
    assert device_class({**HEADLESS, "glv": "x"}) != device_class({**HEADLESS, "glv": "y"})
    assert len(device_class(HEADLESS) or "") == 16
    # Without a canvas hash there is nothing to count.
    assert device_class({"webgl": "x"}) is None
    assert device_class({"canvas": 7}) is None


@pytest.mark.parametrize(
    ("shown", "unit", "mobile", "fires"),
    [
        (DEVICE_CLASS_NETWORKS - 1, DEVICE_CLASS_NETWORKS - 1, False, False),
        (DEVICE_CLASS_NETWORKS, DEVICE_CLASS_NETWORKS, False, True),
        (DEVICE_CLASS_NETWORKS, 4 * DEVICE_CLASS_NETWORKS, False, True),  # a quarter
        (DEVICE_CLASS_NETWORKS, 4 * DEVICE_CLASS_NETWORKS + 1, False, False),
        (500, 600, True, False),  # phones of one model draw alike
    ],
)
def test_a_class_is_shared_from_a_dozen_networks_and_a_quarter_of_the_unit(
    shown: int, unit: int, mobile: bool, fires: bool
) -> None:
    assert shared_device_class(shown, unit, mobile=mobile) is fires
    found = device_class_findings(shown, unit, mobile=mobile)
    assert [f.reason for f in found] == (["shared-device-class"] if fires else [])


def test_a_shared_class_adds_friction_and_declares_nothing() -> None:
    (finding,) = device_class_findings(50, 50, mobile=False)
    assert finding.reason not in AUTOMATION_REASONS
    # Strong enough alone to put a managed visitor under the visual floor (score < 0.23).
    assert finding.weight <= -3.5
