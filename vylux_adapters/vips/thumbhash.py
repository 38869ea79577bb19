"""ThumbHash encoder (Evan Wallace's algorithm, https://evanw.github.io/thumbhash/, MIT).

The one PyPI package (``thumbhash`` 0.1.2, unmaintained since 2023) fails on every
image with transparency (an operator-precedence slip), so the author's own encoder is
ported here: same channels, same quantisation, JavaScript's ``Math.round``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_SIDE = 100


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)


def rgba_to_thumb_hash(width: int, height: int, rgba: Sequence[int]) -> bytes:
    """The ThumbHash of a ``width``×``height`` RGBA image (each side at most 100)."""
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"{width}x{height} does not fit in {MAX_SIDE}x{MAX_SIDE}")
    count = width * height
    avg_r = avg_g = avg_b = avg_a = 0.0
    for index in range(0, count * 4, 4):
        alpha = rgba[index + 3] / 255
        avg_r += alpha / 255 * rgba[index]
        avg_g += alpha / 255 * rgba[index + 1]
        avg_b += alpha / 255 * rgba[index + 2]
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a
    has_alpha = avg_a < count
    l_limit = 5 if has_alpha else 7
    lx = max(1, _js_round(l_limit * width / max(width, height)))
    ly = max(1, _js_round(l_limit * height / max(width, height)))
    lum: list[float] = []
    p_chan: list[float] = []
    q_chan: list[float] = []
    a_chan: list[float] = []
    for index in range(0, count * 4, 4):
        alpha = rgba[index + 3] / 255
        red = avg_r * (1 - alpha) + alpha / 255 * rgba[index]
        green = avg_g * (1 - alpha) + alpha / 255 * rgba[index + 1]
        blue = avg_b * (1 - alpha) + alpha / 255 * rgba[index + 2]
        lum.append((red + green + blue) / 3)
        p_chan.append((red + green) / 2 - blue)
        q_chan.append(red - green)
        a_chan.append(alpha)

    def encode(channel: list[float], nx: int, ny: int) -> tuple[float, list[float], float]:
        dc, ac, scale = 0.0, [], 0.0
        for cy in range(ny):
            cx = 0
            while cx * ny < nx * (ny - cy):
                fx = [math.cos(math.pi / width * cx * (x + 0.5)) for x in range(width)]
                total = 0.0
                for y in range(height):
                    fy = math.cos(math.pi / height * cy * (y + 0.5))
                    row = y * width
                    # The original encoder's summation order: quantisation sits on .5 edges.
                    for x in range(width):
                        total += channel[row + x] * fx[x] * fy
                total /= count
                if cx or cy:
                    ac.append(total)
                    scale = max(scale, abs(total))
                else:
                    dc = total
                cx += 1
        if scale:
            ac = [0.5 + 0.5 / scale * value for value in ac]
        return dc, ac, scale

    l_dc, l_ac, l_scale = encode(lum, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = encode(p_chan, 3, 3)
    q_dc, q_ac, q_scale = encode(q_chan, 3, 3)
    a_dc, a_ac, a_scale = encode(a_chan, 5, 5) if has_alpha else (1.0, [], 1.0)
    landscape = width > height
    header24 = (
        _js_round(63 * l_dc)
        | (_js_round(31.5 + 31.5 * p_dc) << 6)
        | (_js_round(31.5 + 31.5 * q_dc) << 12)
        | (_js_round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx)
        | (_js_round(63 * p_scale) << 3)
        | (_js_round(63 * q_scale) << 9)
        | (int(landscape) << 15)
    )
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    if has_alpha:
        out.append(_js_round(15 * a_dc) | (_js_round(15 * a_scale) << 4))
    odd = False
    for value in [*l_ac, *p_ac, *q_ac, *a_ac]:
        nibble = _js_round(15 * value)
        if odd:
            out[-1] |= nibble << 4
        else:
            out.append(nibble)
        odd = not odd
    return bytes(out)
