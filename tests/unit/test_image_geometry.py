"""The /img resize plan and the sizes it gives, without libvips."""

from __future__ import annotations

import pytest

from vylux_core.images.geometry import Size, cover_scaled_size, output_size, plan_resize
from vylux_core.images.options import MAX_DIMENSION


@pytest.mark.parametrize(
    ("width", "height", "source", "want"),
    [
        pytest.param(200, 100, Size(1000, 1000), Size(200, 100), id="both-sides-cover"),
        pytest.param(200, None, Size(1000, 500), Size(200, 100), id="width-only-fits"),
        pytest.param(None, 50, Size(1000, 500), Size(100, 50), id="height-only-fits"),
        pytest.param(2000, None, Size(100, 50), Size(2000, 1000), id="width-only-upscales"),
        pytest.param(None, None, Size(640, 480), Size(640, 480), id="no-resize-keeps-size"),
        pytest.param(0, -3, Size(640, 480), Size(640, 480), id="non-positive-is-absent"),
        pytest.param(
            None,
            None,
            Size(4 * MAX_DIMENSION, MAX_DIMENSION),
            Size(MAX_DIMENSION, MAX_DIMENSION // 4),
            id="no-resize-still-capped",
        ),
        pytest.param(10, 10, Size(1, 5000), Size(10, 10), id="cover-is-the-box"),
        pytest.param(1, None, Size(1000, 1), Size(1, 1), id="never-below-one-pixel"),
    ],
)
def test_output_size(width: int | None, height: int | None, source: Size, want: Size) -> None:
    assert output_size(source, plan_resize(width, height)) == want


def test_requested_sides_are_clamped_to_the_maximum() -> None:
    plan = plan_resize(MAX_DIMENSION + 1, 10 * MAX_DIMENSION)

    assert plan.box == Size(MAX_DIMENSION, MAX_DIMENSION)
    assert plan.cover


@pytest.mark.parametrize(
    ("source", "box", "want"),
    [
        pytest.param(Size(400, 200), Size(100, 100), Size(200, 100), id="landscape"),
        pytest.param(Size(200, 400), Size(100, 100), Size(100, 200), id="portrait"),
        pytest.param(Size(3, 3), Size(2, 2), Size(2, 2), id="exact"),
        pytest.param(Size(301, 100), Size(100, 33), Size(100, 33), id="never-short-of-the-box"),
    ],
)
def test_cover_scaled_size_covers_the_box(source: Size, box: Size, want: Size) -> None:
    assert cover_scaled_size(source, box) == want


def test_size_pixels_and_transposed() -> None:
    assert Size(3, 4).pixels == 12
    assert Size(3, 4).transposed() == Size(4, 3)
