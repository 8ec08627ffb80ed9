"""Turn a canvas drawing or an uploaded picture into the 28x28 input an MNIST model expects.

MNIST digits were made like this: the digit was cropped to its bounding box, scaled with
anti-aliasing so that its longer side is 20 pixels (aspect ratio kept), and pasted in a 28x28
frame so that its intensity-weighted centre of mass lies at the centre of the frame, moved by
a whole number of pixels. `center_digit` does exactly that; both input paths use it.

Conventions:

- An ink map is a 2-D float array in [0, 1]: 1 is full ink, 0 is background.
- The output is float32 (28, 28), white ink (1.0) on black (0.0), scaled like training data
  (uint8 / 255), with its brightest pixel at 1.0.
- "Centre" is row 14, column 14 in array indices (as `scipy.ndimage.center_of_mass` counts).
  MNIST's own digits have their centre of mass between 13.5 and 14.5 on both axes, because
  their shift was rounded to whole pixels; ours is too.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image, ImageOps

from core.errors import ImageInputError, ImageTooLargeError

FRAME_SIZE = 28
DIGIT_BOX_SIZE = 20
FRAME_CENTRE = 14.0
DEFAULT_MAX_PIXELS = 25_000_000

# Canvas strokes are drawn white on black (background_color="#000000").
CANVAS_BACKGROUND_RGB = (0, 0, 0)
# The digit's bounding box is that of its ink at least this fraction of the strongest: low, so the faint
# edge blocks of enlarged pixel art and the grey rims of anti-aliased strokes count. Measured on the
# validation split's handwriting renderings (docs/benchmarks.md, section 13), this beat the box measured
# on strong ink or on the digit shrunk to 20 px, which lost digits to the naive baseline on several renderings.
BOX_INK_FRACTION = 0.1
# A canvas with less ink than this many fully inked pixels is treated as empty (stray clicks).
MIN_CANVAS_INK_PIXELS = 10.0
# Ink weaker than half an 8-bit grey level is treated as no ink (it would round to 0 in uint8).
INK_EPSILON = 0.5 / 255
# An upload whose ink differs from its background by less than this (about 20 grey levels)
# is blank: there is no digit to read.
MIN_UPLOAD_CONTRAST = 0.08
# In an upload, ink weaker than this fraction of the strongest ink is paper texture, sensor
# noise or JPEG ringing; it is removed and the rest stretched back to [0, 1]. At 15 % it also
# erased the faint edge blocks of enlarged pixel art; at 0 blur cost more (docs/benchmarks.md, section 13).
UPLOAD_NOISE_FLOOR = 0.02

# A photo's paper is often lit unevenly (a lamp to one side, a phone's shadow): the paper's brightness is fitted
# as a plane to a band along the picture's border (mostly paper), ink there left out, and evened out when it
# varies by more than MIN_LIGHTING_TILT across the picture. Uniform paper (scans, drawings) is left untouched.
LIGHTING_BAND = 0.03  # of the shorter side
MIN_LIGHTING_TILT = 0.02

# ITU-R 601-2 luma, the weights Pillow uses to convert RGB to "L".
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
# The same weights for RGBA values on the 0..255 scale, giving luminance in [0, 1].
_RGBA_LUMA_WEIGHTS = np.append(_LUMA_WEIGHTS / 255, 0.0).astype(np.float32)

_BLANK_MESSAGE = (
    "The image is blank (a single colour): there is no digit to read. "
    "Upload a picture of one digit, dark on light or light on dark."
)


def center_digit(ink: np.ndarray) -> np.ndarray | None:
    """Apply the MNIST procedure to a 2-D ink map of any size; None if there is no ink.

    Crops to the ink's bounding box, scales the longer side to 20 px with anti-aliasing
    (Lanczos when shrinking, bilinear when enlarging; never binarised), pastes the
    result in a 28x28 frame with its centre of mass at (14, 14) (whole-pixel shift, clipped
    so nothing falls off the frame), and rescales so the brightest pixel is 1.0.
    """
    ink_map = _clean_ink_map(ink)
    box = _ink_bounding_box(ink_map)
    if box is None:
        return None
    top, bottom, left, right = box
    patch = _scale_longer_side(ink_map[top:bottom, left:right], DIGIT_BOX_SIZE)
    frame = np.clip(_paste_centred_by_mass(patch), 0.0, 1.0)
    peak = float(frame.max())
    if peak <= 0.0:
        return None
    frame /= peak
    frame[frame < INK_EPSILON] = 0.0
    return frame.astype(np.float32)


def digit_from_canvas(
    image_data: np.ndarray, *, background_rgb: tuple[int, int, int] = CANVAS_BACKGROUND_RGB
) -> np.ndarray | None:
    """Return the 28x28 digit drawn on a canvas, or None if the canvas is (nearly) empty.

    `image_data` is the (H, W, 4) RGBA array streamlit-drawable-canvas returns, on the 0..255
    scale whatever its dtype. Ink is how far each pixel's colour, composited by its alpha onto
    the canvas background, is in luminance from that background; untouched pixels (alpha 0)
    are therefore background. Less ink than MIN_CANVAS_INK_PIXELS counts as empty.
    """
    ink = _canvas_ink(_crop_to_painted(image_data), background_rgb)
    if float(ink.sum()) < MIN_CANVAS_INK_PIXELS:
        return None
    return center_digit(ink)


def digit_from_upload(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Return the 28x28 digit in an uploaded image file (PNG, JPEG, GIF, BMP, TIFF, WebP...).

    Works for any size and either polarity: the background is the median colour of the
    image's border and ink is whatever differs from it in the opposite direction. Transparent
    pixels count as background. An animated or multi-frame file is read from its first frame
    (what a viewer shows first). The EXIF orientation of photos is applied.

    Raises ImageInputError, and nothing else, with a message for the user if the bytes are
    empty, not an image, damaged or truncated, larger than `max_pixels` (checked from the
    header, before decoding), or blank.
    """
    if not data:
        raise ImageInputError("The file is empty: there is no image to read.")
    try:
        lightness = _decode_lightness(data, max_pixels)
        ink = _upload_ink(lightness)
        digit = center_digit(ink)
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLargeError(_too_large_message(None, max_pixels)) from error
    except Image.UnidentifiedImageError as error:
        raise ImageInputError(
            "This file is not an image that can be read (use PNG, JPEG, GIF, BMP, TIFF or WebP)."
        ) from error
    except MemoryError as error:
        raise ImageTooLargeError("The image is too large to process; make it smaller.") from error
    except Exception as error:  # any decoder failure: the file is damaged or truncated
        raise ImageInputError("The image file is damaged or incomplete (truncated) and cannot be read.") from error
    if digit is None:
        raise ImageInputError(_BLANK_MESSAGE)
    return digit


# --- center_digit helpers -------------------------------------------------------------------


def _clean_ink_map(ink: np.ndarray) -> np.ndarray:
    """Return `ink` as a finite float32 2-D array in [0, 1] with negligible ink set to 0."""
    ink_map = np.array(ink, dtype=np.float32)  # a copy: the caller's array is not changed
    if ink_map.ndim != 2:
        raise ValueError(f"an ink map must be 2-D, got shape {ink_map.shape}")
    np.nan_to_num(ink_map, copy=False, nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(ink_map, 0.0, 1.0, out=ink_map)
    ink_map[ink_map < INK_EPSILON] = 0.0
    return ink_map


def _ink_bounding_box(ink_map: np.ndarray) -> tuple[int, int, int, int] | None:
    """Return (top, bottom, left, right) of ink at least BOX_INK_FRACTION of the strongest, ends exclusive."""
    return _box_over(ink_map, BOX_INK_FRACTION)


def _box_over(ink_map: np.ndarray, fraction: float) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of ink at least `fraction` of the strongest, ends exclusive; None if no ink."""
    peak = float(ink_map.max()) if ink_map.size else 0.0
    if peak <= 0.0:
        return None
    strong = ink_map >= peak * fraction
    rows = np.flatnonzero(strong.any(axis=1))
    columns = np.flatnonzero(strong.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def _scale_longer_side(patch: np.ndarray, size: int) -> np.ndarray:
    """Resize `patch` so its longer side is `size`, keeping the aspect ratio."""
    height, width = patch.shape
    scale = size / max(height, width)
    new_height = max(1, round(height * scale))
    new_width = max(1, round(width * scale))
    if (new_height, new_width) == (height, width):
        return patch.copy()
    # Lanczos shrinks with anti-aliasing and keeps strokes crisp, as MNIST's are (it beat area averaging on
    # blurred and low-resolution digits, section 13); bilinear avoids blocky or ringing enlargements.
    resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BILINEAR
    image = Image.fromarray(np.ascontiguousarray(patch, dtype=np.float32))  # mode "F"
    resized = np.asarray(image.resize((new_width, new_height), resample), dtype=np.float32)
    return np.clip(resized, 0.0, None)  # Lanczos rings below zero beside strong edges: that is no ink


def _paste_centred_by_mass(patch: np.ndarray) -> np.ndarray:
    """Paste `patch` in an empty frame so its centre of mass is as near FRAME_CENTRE as can be."""
    height, width = patch.shape
    centre_row, centre_column = _centre_of_mass(patch)
    top = _whole_pixel_offset(centre_row, height)
    left = _whole_pixel_offset(centre_column, width)
    frame = np.zeros((FRAME_SIZE, FRAME_SIZE), dtype=np.float32)
    frame[top : top + height, left : left + width] = patch
    return frame


def _centre_of_mass(patch: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean (row, column) of `patch`; its middle if it holds no ink."""
    total = float(patch.sum(dtype=np.float64))
    if total <= 0.0:
        return (patch.shape[0] - 1) / 2, (patch.shape[1] - 1) / 2
    rows, columns = np.indices(patch.shape)
    centre_row = float((rows * patch).sum(dtype=np.float64)) / total
    centre_column = float((columns * patch).sum(dtype=np.float64)) / total
    return centre_row, centre_column


def _whole_pixel_offset(centre: float, length: int) -> int:
    """Offset putting `centre` nearest FRAME_CENTRE, clipped so `length` pixels stay inside."""
    offset = math.floor(FRAME_CENTRE - centre + 0.5)
    return min(max(offset, 0), FRAME_SIZE - length)


# --- canvas helpers -------------------------------------------------------------------------


def _crop_to_painted(image_data: np.ndarray) -> np.ndarray:
    """The smallest rectangle holding every pixel with alpha > 0 (the rest has no ink).

    A drawing covers a small part of the canvas: computing ink over the crop only keeps the
    Draw page's per-stroke preprocessing from allocating and freeing megabytes each time.
    """
    given = np.asarray(image_data)
    if given.ndim != 3 or given.shape[2] != 4:
        return given  # _canvas_ink says what is wrong with it
    painted = given[..., 3] > 0
    rows = np.flatnonzero(painted.any(axis=1))
    if rows.size == 0:
        return given[:1, :1]
    columns = np.flatnonzero(painted.any(axis=0))
    return given[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _canvas_ink(image_data: np.ndarray, background_rgb: tuple[int, int, int]) -> np.ndarray:
    """Return the ink map of an RGBA canvas array: alpha x |luminance - background luminance|."""
    given = np.asarray(image_data)
    if given.ndim != 3 or given.shape[2] != 4:
        raise ValueError(f"canvas image data must have shape (H, W, 4), got {given.shape}")
    pixels = given.astype(np.float32)
    if given.dtype != np.uint8:  # uint8 (what the canvas sends) is already clean and in range
        np.nan_to_num(pixels, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
        np.clip(pixels, 0.0, 255.0, out=pixels)
    height, width, _ = pixels.shape
    # One (H*W, 4) @ (4,) product is the fast way to weight the channels (alpha gets weight 0).
    luminance = (pixels.reshape(-1, 4) @ _RGBA_LUMA_WEIGHTS).reshape(height, width)
    luminance -= np.float32(np.dot(_LUMA_WEIGHTS, background_rgb) / 255)
    ink = np.abs(luminance, out=luminance)
    ink *= pixels[..., 3]
    ink *= np.float32(1 / 255)
    return ink


# --- upload helpers -------------------------------------------------------------------------


def _decode_lightness(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode the first frame of an image file into lightness in [0, 1], transparency resolved.

    Raises ImageInputError if the header announces more than `max_pixels` pixels; decoder
    errors propagate to the caller, which turns them into ImageInputError.
    """
    with warnings.catch_warnings():
        # Our own size limit below is the guard; Pillow's warning would only add noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(bytes(data)))  # reads the header only
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLargeError(_too_large_message((width, height), max_pixels))
        if width * height == 0:
            raise ImageInputError(_BLANK_MESSAGE)
        image.load()
    return _lightness(_upright(image))


def _upright(image: Image.Image) -> Image.Image:
    """Apply a photo's EXIF orientation; a picture with unreadable EXIF is used as it is."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - EXIF is optional metadata; bad EXIF must not block
        return image


def _lightness(image: Image.Image) -> np.ndarray:
    """Return the image's lightness as float32 in [0, 1]; transparent pixels become background."""
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float32) / 65535.0
    if image.mode in ("I", "F"):
        return _stretch_to_unit_range(np.asarray(image, dtype=np.float64))
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        lightness = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        return _composite_on_contrasting_backdrop(lightness, alpha)
    return np.asarray(image.convert("RGB").convert("L"), dtype=np.float32) / 255.0


def _stretch_to_unit_range(values: np.ndarray) -> np.ndarray:
    """Map 32-bit values (which have no fixed white level) linearly onto [0, 1]."""
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.float32)
    return ((values - low) / (high - low)).astype(np.float32)


def _composite_on_contrasting_backdrop(lightness: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Put a picture with transparency on white if its visible content is dark, else on black.

    Transparent pixels then take the colour opposite to the strokes, so they read as
    background whichever colour the strokes are.
    """
    visible = float(alpha.sum(dtype=np.float64))
    if visible <= 0.0:
        return np.zeros_like(lightness)  # fully transparent: blank
    mean_visible = float((lightness * alpha).sum(dtype=np.float64)) / visible
    backdrop = 1.0 if mean_visible < 0.5 else 0.0
    return lightness * alpha + backdrop * (1.0 - alpha)


def _border_pixels(image: np.ndarray) -> np.ndarray:
    """Return the pixels of the outermost rows and columns."""
    return np.concatenate([image[0, :], image[-1, :], image[:, 0], image[:, -1]])


def _even_out_lighting(lightness: np.ndarray) -> np.ndarray:
    """`lightness` with the paper's lighting gradient removed: a plane fitted to the border band, ink left out.

    A shadow over one side of a photo would otherwise read as faint ink and widen the digit's box. The fit is
    refitted twice without the pixels far from it (ink touching the border), so a stroke there does not tilt it.
    """
    height, width = lightness.shape
    band = max(1, round(LIGHTING_BAND * min(height, width)))
    in_band = np.zeros((height, width), dtype=bool)
    in_band[:band], in_band[-band:], in_band[:, :band], in_band[:, -band:] = True, True, True, True
    rows, columns = np.nonzero(in_band)
    step = max(1, len(rows) // 20_000)  # a sample of the band is plenty for three numbers
    rows, columns = rows[::step], columns[::step]
    values = lightness[rows, columns].astype(np.float64)
    design = np.column_stack([np.ones(len(rows)), rows / height, columns / width])
    keep = np.ones(len(values), dtype=bool)
    for _ in range(3):
        coefficients = np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]
        residuals = values - design @ coefficients
        spread = 1.4826 * float(np.median(np.abs(residuals[keep]))) + 1e-3
        keep = np.abs(residuals) <= 3 * spread
        if keep.sum() < 3:
            return lightness
    level, down, across = coefficients
    if abs(down) + abs(across) < MIN_LIGHTING_TILT:
        return lightness
    # Light falls on paper and ink alike (lightness = reflectance × light), so divide by the light, not subtract it.
    # One float32 array of the picture's size, worked in place: uploads can be large.
    light = np.add.outer(
        (level + down * np.arange(height) / height).astype(np.float32),
        (across * np.arange(width) / width).astype(np.float32),
    )
    np.maximum(light, 0.05, out=light)
    np.divide(np.float32(level + (down + across) / 2), light, out=light)  # the mean light over the picture
    light *= lightness
    return light


def _upload_ink(lightness: np.ndarray) -> np.ndarray:
    """Return the ink map of an upload: distance from the border's median, towards the ink.

    The paper's uneven lighting is evened out first (`_even_out_lighting`).
    """
    lightness = _even_out_lighting(lightness)
    background = float(np.median(_border_pixels(lightness)))
    if background >= 0.5:
        ink = background - lightness  # dark ink on light paper
    else:
        ink = lightness - background  # light ink on a dark background
    contrast = float(ink.max())
    if contrast < MIN_UPLOAD_CONTRAST:
        raise ImageInputError(_BLANK_MESSAGE)
    floor = UPLOAD_NOISE_FLOOR * contrast
    ink -= floor  # in place: uploads can be large
    ink /= contrast - floor
    return np.clip(ink, 0.0, 1.0, out=ink)


def _too_large_message(size: tuple[int, int] | None, max_pixels: int) -> str:
    """Explain that an image has too many pixels to be processed."""
    described = f" ({size[0]} x {size[1]} = {size[0] * size[1]:,} pixels)" if size else ""
    return (
        f"The image is too large{described}: the limit is {max_pixels:,} pixels. Resize or crop it and upload it again."
    )
