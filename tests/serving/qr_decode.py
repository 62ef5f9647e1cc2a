"""Read back the QR codes the server draws: a terminal's half blocks, or an image's pixels."""

from __future__ import annotations

import numpy as np

# Each character is two modules, top and bottom; True is a light module (segno's compact
# terminal output draws light modules as blocks, for a dark terminal).
HALF_BLOCKS = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}


def text_to_pixels(text: str, scale: int = 8) -> np.ndarray:
    """A grey image (255 light, 0 dark) of a QR code drawn in half blocks, with a light margin."""
    lines = [line for line in text.splitlines() if line.strip()]
    width = max(len(line) for line in lines)
    rows: list[list[bool]] = [[], []]
    grid: list[list[bool]] = []
    for line in lines:
        rows = [[], []]
        for char in line.ljust(width):
            top, bottom = HALF_BLOCKS[char]
            rows[0].append(top)
            rows[1].append(bottom)
        grid.extend(rows)
    light = np.array(grid, dtype=bool)
    light = np.pad(light, 4, constant_values=True)  # quiet zone, whatever the terminal draws
    pixels = np.where(light, 255, 0).astype(np.uint8)
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def decode(pixels: np.ndarray) -> list[str]:
    """The texts of every QR code zxing-cpp finds in a grey or RGB image."""
    import zxingcpp

    return [result.text for result in zxingcpp.read_barcodes(pixels)]


def decode_png(png: bytes) -> list[str]:
    import io

    from PIL import Image

    return decode(np.asarray(Image.open(io.BytesIO(png)).convert("L")))
