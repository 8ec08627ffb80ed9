"""Tests of core.preprocessing: canvas drawings and uploads become MNIST-like 28x28 digits."""

from __future__ import annotations

import io
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw

from core.errors import ImageInputError
from core.preprocessing import _even_out_lighting, center_digit, digit_from_canvas, digit_from_upload
from tests.support.images import png_header_only

CANVAS = 280
SUPERSAMPLE = 4  # shapes are drawn 4x larger and shrunk, for anti-aliased edges like a canvas


# --- helpers --------------------------------------------------------------------------------


def draw_ink(shape: str, height: int, top: int, left: int, size: int = CANVAS) -> np.ndarray:
    """Return a uint8 (size, size) ink map (255 = ink) of a synthetic digit `height` px tall.

    The digit, strokes included, fits in the box of `height` x 0.6 `height` at (top, left).
    """
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    line = max(1, round(0.12 * height * SUPERSAMPLE))
    inner_height = height * SUPERSAMPLE - line
    inner_width = int(0.6 * height) * SUPERSAMPLE - line

    def at(x: float, y: float) -> tuple[float, float]:
        """A point of the box's inside, (0, 0) top-left to (1, 1) bottom-right."""
        return (
            left * SUPERSAMPLE + line / 2 + x * inner_width,
            top * SUPERSAMPLE + line / 2 + y * inner_height,
        )

    if shape == "seven":
        draw.line([at(0, 0), at(1, 0), at(0.35, 1)], fill=255, width=line, joint="curve")
    elif shape == "four":
        draw.line([at(0.55, 0), at(0, 0.65), at(1, 0.65)], fill=255, width=line, joint="curve")
        draw.line([at(0.7, 0.3), at(0.7, 1)], fill=255, width=line)
    else:
        raise ValueError(shape)
    return np.asarray(big.resize((size, size), Image.Resampling.BOX))


def canvas_from_ink(ink: np.ndarray) -> np.ndarray:
    """Return what the canvas returns for white strokes: RGB 255, alpha = coverage, else 0."""
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., :3] = np.where(ink > 0, 255, 0)[..., None]
    rgba[..., 3] = ink
    return rgba


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(image.shape)
    total = image.sum()
    return float((rows * image).sum() / total), float((columns * image).sum() / total)


def box_size(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(image.any(axis=1))
    columns = np.flatnonzero(image.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(columns[-1] - columns[0] + 1)


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def assert_valid_digit(digit: np.ndarray) -> None:
    assert digit.dtype == np.float32
    assert digit.shape == (28, 28)
    assert np.all(np.isfinite(digit))
    assert digit.min() >= 0.0 and digit.max() <= 1.0


def max_pairwise_difference(images: list[np.ndarray]) -> float:
    return max(float(np.abs(a - b).mean()) for a, b in itertools.combinations(images, 2))


# --- 1. size and position invariance --------------------------------------------------------


@pytest.mark.parametrize("shape", ["seven", "four"])
def test_canvas_digit_is_the_same_whatever_its_size_and_position(shape):
    digits = []
    for height in (100, 180, 260):
        width = int(0.6 * height)
        places = {
            "top-left": (5, 5),
            "centre": ((CANVAS - height) // 2, (CANVAS - width) // 2),
            "bottom-right": (CANVAS - height - 5, CANVAS - width - 5),
        }
        for top, left in places.values():
            digit = digit_from_canvas(canvas_from_ink(draw_ink(shape, height, top, left)))
            assert digit is not None
            assert_valid_digit(digit)
            row, column = centre_of_mass(digit)
            assert abs(row - 14.0) <= 0.5 + 1e-6 and abs(column - 14.0) <= 0.5 + 1e-6
            assert max(box_size(digit)) in (19, 20, 21)
            assert digit.max() == pytest.approx(1.0)
            digits.append(digit)
    assert max_pairwise_difference(digits) < 0.05


def test_different_digits_give_different_outputs():
    """Guards the invariance test: the outputs do depend on what was drawn."""
    seven = digit_from_canvas(canvas_from_ink(draw_ink("seven", 180, 50, 50)))
    four = digit_from_canvas(canvas_from_ink(draw_ink("four", 180, 50, 50)))
    assert np.abs(seven - four).mean() > 0.1


def test_canvas_accepts_float_arrays_and_opaque_black_background():
    ink = draw_ink("seven", 180, 40, 60)
    expected = digit_from_canvas(canvas_from_ink(ink))
    opaque = np.zeros((CANVAS, CANVAS, 4), dtype=np.float64)
    opaque[..., :3] = ink[..., None]  # grey levels on an opaque black background
    opaque[..., 3] = 255.0
    assert np.abs(digit_from_canvas(opaque) - expected).mean() < 0.01


def test_canvas_digit_does_not_depend_on_the_array_dtype():
    ink = draw_ink("seven", 180, 40, 60)
    canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    canvas[..., 0] = ink  # red strokes, half transparent where the ink is faint
    canvas[..., 2] = ink // 2
    canvas[..., 3] = np.where(ink > 100, 255, ink)
    expected = digit_from_canvas(canvas)
    assert expected is not None and expected.max() == pytest.approx(1.0)
    for dtype in (np.int64, np.float32, np.float64):
        np.testing.assert_allclose(digit_from_canvas(canvas.astype(dtype)), expected, atol=1e-6)


def test_canvas_digit_is_the_digit_of_the_whole_canvas_ink():
    """Only the painted part of the canvas is read (for speed): what lies outside it has no ink, so the
    digit equals that of the ink map computed over the whole canvas by its definition."""
    ink = draw_ink("four", 140, 30, 90)
    canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    canvas[..., 1] = ink
    canvas[..., 3] = np.where(ink > 0, 200, 0)
    canvas[250:260, 5:15] = (0, 0, 0, 255)  # painted in the background colour: no ink, but inside the crop
    luminance = canvas[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255
    whole_canvas_ink = luminance * canvas[..., 3] / 255
    np.testing.assert_allclose(digit_from_canvas(canvas), center_digit(whole_canvas_ink), atol=1e-5)


# --- 2. empty canvas ------------------------------------------------------------------------


def test_empty_canvas_gives_none():
    assert digit_from_canvas(np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)) is None
    opaque_black = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    opaque_black[..., 3] = 255
    assert digit_from_canvas(opaque_black) is None


def test_canvas_with_two_stray_pixels_gives_none():
    canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    canvas[10, 20] = (255, 255, 255, 255)
    canvas[200, 150] = (255, 255, 255, 255)
    assert digit_from_canvas(canvas) is None


def test_a_small_dot_is_ink_not_empty():
    canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    canvas[100:106, 100:106] = (255, 255, 255, 255)
    assert digit_from_canvas(canvas) is not None


# --- 3. uploads in every format agree -------------------------------------------------------


@pytest.fixture(scope="module")
def upload_ink() -> np.ndarray:
    """A 'seven' on a 240x200 picture, as uint8 ink (255 = ink)."""
    return draw_ink("seven", 170, 30, 40, size=240)[:, :200]


def upload_variants(ink: np.ndarray) -> dict[str, bytes]:
    dark_on_light = Image.fromarray(255 - ink)
    light_on_dark = Image.fromarray(ink)
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., :3] = (20, 30, 120)  # dark blue strokes; transparent pixels hold the same colour
    rgba[..., 3] = ink
    transparent_white_bg = np.zeros_like(rgba)
    transparent_white_bg[..., :3] = 255  # white strokes, transparent pixels "white" too
    transparent_white_bg[..., 3] = ink
    sixteen_bit = Image.fromarray(ink.astype(np.uint16) * 257)
    assert sixteen_bit.mode == "I;16"
    return {
        "png dark on light": encode(dark_on_light),
        "png light on dark": encode(light_on_dark.convert("RGB")),
        "png rgba dark strokes": encode(Image.fromarray(rgba)),
        "png rgba white strokes": encode(Image.fromarray(transparent_white_bg)),
        "png 16-bit": encode(sixteen_bit),
        "jpeg": encode(dark_on_light.convert("RGB"), "JPEG", quality=85),
        "palette": encode(dark_on_light.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)),
        "bmp": encode(light_on_dark, "BMP"),
    }


def test_uploads_in_all_formats_and_polarities_agree(upload_ink):
    variants = upload_variants(upload_ink)
    assert Image.open(io.BytesIO(variants["palette"])).mode == "P"
    digits = []
    for data in variants.values():
        digit = digit_from_upload(data)
        assert_valid_digit(digit)
        digits.append(digit)
    assert max_pairwise_difference(digits) < 0.05


def test_upload_matches_the_canvas_path(upload_ink):
    from_upload = digit_from_upload(encode(Image.fromarray(255 - upload_ink)))
    from_canvas = digit_from_canvas(canvas_from_ink(upload_ink))
    assert np.abs(from_upload - from_canvas).mean() < 0.05
    row, column = centre_of_mass(from_upload)
    assert abs(row - 14.0) <= 0.5 + 1e-6 and abs(column - 14.0) <= 0.5 + 1e-6


def test_paper_noise_is_not_ink(upload_ink):
    clean = digit_from_upload(encode(Image.fromarray(255 - upload_ink)))
    paper = np.random.default_rng(0).normal(225, 6, upload_ink.shape)  # grey, grainy paper
    photo = np.clip(paper - upload_ink * (190 / 255), 0, 255).astype(np.uint8)
    noisy = digit_from_upload(encode(Image.fromarray(photo), "JPEG", quality=75))
    assert max(box_size(noisy)) in (19, 20, 21)
    assert np.abs(noisy - clean).mean() < 0.05


def lit_unevenly(ink: np.ndarray, light_from: str, depth: float, ink_light: bool = False) -> bytes:
    """A photo of `ink` (uint8, 255 = ink) whose light falls off by `depth` away from one side or corner."""
    rows, columns = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]]
    rows, columns = rows / (ink.shape[0] - 1), columns / (ink.shape[1] - 1)
    away = {"left": columns, "top": rows, "top left": (rows + columns) / 2, "bottom right": 1 - (rows + columns) / 2}
    light = 1.0 - depth * away[light_from]
    reflectance = 0.15 + 0.8 * ink / 255 if ink_light else 1.0 - 0.8 * ink / 255  # chalk on a board, or ink on paper
    return encode(Image.fromarray(np.round(255 * light * reflectance).astype(np.uint8)))


@pytest.mark.parametrize("light_from", ["left", "top", "top left", "bottom right"])
@pytest.mark.parametrize("depth", [0.2, 0.45])
def test_a_photo_in_uneven_light_reads_as_in_even_light(upload_ink, light_from, depth):
    even = digit_from_upload(lit_unevenly(upload_ink, light_from, 0.0))
    shadowed = digit_from_upload(lit_unevenly(upload_ink, light_from, depth))
    assert box_size(shadowed) == box_size(even)  # the shadow is not ink: the digit keeps its size
    assert np.abs(shadowed - even).max() < 0.05


def test_chalk_on_an_unevenly_lit_board_reads_as_in_even_light(upload_ink):
    even = digit_from_upload(lit_unevenly(upload_ink, "left", 0.0, ink_light=True))
    shadowed = digit_from_upload(lit_unevenly(upload_ink, "left", 0.45, ink_light=True))
    assert np.abs(shadowed - even).max() < 0.05


def test_a_stroke_touching_the_border_does_not_read_as_uneven_light(upload_ink):
    cropped = upload_ink[:, 60:]  # the seven's bar runs into the left edge
    assert cropped[:, 0].max() == 255
    lightness = (255 - cropped).astype(np.float32) / 255
    assert _even_out_lighting(lightness) is lightness  # evenly lit: left exactly as it was


def test_faint_upload_is_stretched_to_full_ink(upload_ink):
    faint = (200 - (upload_ink.astype(np.float64) * 40 / 255)).astype(np.uint8)  # grey on grey
    digit = digit_from_upload(encode(Image.fromarray(faint)))
    assert digit.max() == pytest.approx(1.0)
    strong = digit_from_upload(encode(Image.fromarray(255 - upload_ink)))
    assert np.abs(digit - strong).mean() < 0.05


def test_tiny_upload_is_enlarged_to_a_20px_digit():
    small = Image.fromarray(draw_ink("four", 12, 2, 3, size=16))
    digit = digit_from_upload(encode(small))
    assert max(box_size(digit)) in (19, 20, 21)


def test_animated_gif_is_read_from_its_first_frame(upload_ink):
    first = Image.fromarray(255 - upload_ink).convert("P")
    second = Image.fromarray(255 - draw_ink("four", 170, 30, 40, size=240)[:, :200]).convert("P")
    animated = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(io.BytesIO(animated)).n_frames == 2
    digit = digit_from_upload(animated)
    only_first = digit_from_upload(encode(first, "GIF"))
    only_second = digit_from_upload(encode(second, "GIF"))
    assert np.abs(digit - only_first).mean() < 1e-6
    assert np.abs(digit - only_second).mean() > 0.1


def test_photo_exif_orientation_is_applied(upload_ink):
    upright = Image.fromarray(255 - upload_ink)
    stored_sideways = upright.transpose(Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[0x0112] = 8  # orientation 8: turn a quarter anticlockwise to display
    data = encode(stored_sideways, "JPEG", quality=95, exif=exif.tobytes())
    expected = digit_from_upload(encode(upright))
    assert np.abs(digit_from_upload(data) - expected).mean() < 0.05
    sideways = digit_from_upload(encode(stored_sideways, "JPEG", quality=95))
    assert np.abs(sideways - expected).mean() > 0.1


# --- 4. upload errors -----------------------------------------------------------------------


def test_empty_bytes_are_refused():
    with pytest.raises(ImageInputError, match="empty"):
        digit_from_upload(b"")


def test_non_image_bytes_are_refused():
    with pytest.raises(ImageInputError, match="not an image"):
        digit_from_upload(b"not an image")


def test_truncated_png_is_refused(upload_ink):
    data = encode(Image.fromarray(255 - upload_ink))
    with pytest.raises(ImageInputError, match="truncated"):
        digit_from_upload(data[: len(data) // 2])


def test_image_over_the_pixel_limit_is_refused():
    data = encode(Image.new("L", (3000, 3000), 255))
    with pytest.raises(ImageInputError, match="too large.*3000 x 3000"):
        digit_from_upload(data, max_pixels=1_000_000)


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    # The pixel data is missing: decoding would fail as "damaged", so "too large" proves
    # the size was checked first; Pillow's own bomb warning (over ~89M pixels) must not leak.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageInputError, match="too large.*6000 x 6000"):
            digit_from_upload(png_header_only(6000, 6000))
        with pytest.raises(ImageInputError, match="too large.*10000 x 10000"):
            digit_from_upload(png_header_only(10_000, 10_000))
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_pillow_decompression_bomb_error_becomes_image_input_error():
    with pytest.raises(ImageInputError, match="too large"):
        digit_from_upload(png_header_only(100_000, 100_000), max_pixels=10**12)


def test_under_the_limit_the_header_only_file_is_reported_as_damaged():
    with pytest.raises(ImageInputError, match="damaged"):
        digit_from_upload(png_header_only(100, 100))


@pytest.mark.parametrize(
    ("mode", "colour"),
    [("L", 255), ("L", 0), ("RGB", (255, 255, 255)), ("RGB", (0, 0, 0)), ("RGB", (90, 140, 30))],
)
def test_single_colour_image_is_blank(mode, colour):
    with pytest.raises(ImageInputError, match="no digit to read"):
        digit_from_upload(encode(Image.new(mode, (64, 48), colour)))


def test_fully_transparent_and_nearly_uniform_images_are_blank():
    with pytest.raises(ImageInputError, match="no digit to read"):
        digit_from_upload(encode(Image.new("RGBA", (40, 40), (255, 0, 0, 0))))
    nearly_white = np.full((40, 40), 255, dtype=np.uint8)
    nearly_white[10:30, 18:22] = 252  # 3 grey levels: paper noise, not a digit
    with pytest.raises(ImageInputError, match="no digit to read"):
        digit_from_upload(encode(Image.fromarray(nearly_white)))
    with pytest.raises(ImageInputError, match="no digit to read"):
        digit_from_upload(encode(Image.new("L", (64, 64), 255), "JPEG"))
    nearly_white_16_bit = nearly_white.astype(np.uint16) * 257  # same 3 levels in 16 bits
    with pytest.raises(ImageInputError, match="no digit to read"):
        digit_from_upload(encode(Image.fromarray(nearly_white_16_bit)))


# --- 5. properties --------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def upload_or_refusal(data: bytes) -> np.ndarray | None:
    try:
        digit = digit_from_upload(data)
    except ImageInputError as error:
        assert str(error)  # a message for the user
        return None
    assert_valid_digit(digit)
    return digit


@PROPERTY_SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_digit_or_image_input_error(data):
    upload_or_refusal(data)


small_sides = st.integers(min_value=1, max_value=24)


@st.composite
def small_encoded_images(draw) -> bytes:
    height, width = draw(small_sides), draw(small_sides)
    kind = draw(st.sampled_from(["L", "RGB", "RGBA", "LA", "I;16"]))
    if kind == "I;16":
        pixels = draw(hnp.arrays(np.uint16, (height, width)))
    else:
        channels = {"L": (), "RGB": (3,), "RGBA": (4,), "LA": (2,)}[kind]
        pixels = draw(hnp.arrays(np.uint8, (height, width, *channels)))
    image = Image.fromarray(pixels)
    assert image.mode == kind
    fmt = draw(st.sampled_from(["PNG", "GIF", "BMP", "TIFF"] if kind != "I;16" else ["PNG"]))
    if fmt in ("GIF", "BMP") and image.mode in ("RGBA", "LA"):
        image = image.convert("RGB")
    return encode(image, fmt)


@PROPERTY_SETTINGS
@given(small_encoded_images())
def test_random_small_images_give_a_digit_or_image_input_error(data):
    upload_or_refusal(data)


@pytest.fixture(scope="module")
def valid_files(upload_ink) -> list[bytes]:
    small = Image.fromarray(255 - upload_ink).resize((50, 60))
    return [
        encode(small),
        encode(small.convert("RGB"), "JPEG"),
        encode(small.convert("P"), "GIF"),
        encode(small, "BMP"),
        encode(small, "TIFF"),
        encode(small.convert("RGB"), "WEBP"),
    ]


@PROPERTY_SETTINGS
@given(data=st.data())
def test_damaged_valid_files_give_a_digit_or_image_input_error(valid_files, data):
    original = bytearray(data.draw(st.sampled_from(valid_files)))
    cut = data.draw(st.integers(min_value=1, max_value=len(original)))
    damaged = original[:cut]
    for _ in range(data.draw(st.integers(min_value=0, max_value=4))):
        position = data.draw(st.integers(min_value=0, max_value=len(damaged) - 1))
        damaged[position] = data.draw(st.integers(min_value=0, max_value=255))
    upload_or_refusal(bytes(damaged))


canvas_shapes = st.tuples(st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=60), st.just(4))


@PROPERTY_SETTINGS
@given(
    st.one_of(
        hnp.arrays(np.uint8, canvas_shapes),
        hnp.arrays(np.float32, canvas_shapes, elements=st.floats(width=32)),
        hnp.arrays(np.float64, canvas_shapes, elements=st.floats(-10, 300)),
    )
)
def test_random_canvases_give_none_or_a_valid_digit(image_data):
    digit = digit_from_canvas(image_data)
    if digit is not None:
        assert_valid_digit(digit)
        assert digit.max() == pytest.approx(1.0)


# --- 6. center_digit on degenerate shapes ---------------------------------------------------


def test_center_digit_single_pixel():
    ink = np.zeros((50, 70))
    ink[3, 60] = 1.0
    digit = center_digit(ink)
    assert_valid_digit(digit)
    assert digit.max() == pytest.approx(1.0)
    row, column = centre_of_mass(digit)
    assert abs(row - 14.0) <= 0.5 and abs(column - 14.0) <= 0.5


def test_center_digit_one_pixel_wide_vertical_line():
    ink = np.zeros((150, 90))
    ink[20:120, 7] = 1.0
    digit = center_digit(ink)
    assert_valid_digit(digit)
    assert box_size(digit) == (20, 1)
    assert np.all(digit[digit > 0] == pytest.approx(1.0))
    row, column = centre_of_mass(digit)
    assert abs(row - 14.0) <= 0.5 and column == 14.0


def test_center_digit_without_ink_is_none():
    assert center_digit(np.zeros((30, 30))) is None
    assert center_digit(np.full((30, 30), np.nan)) is None
    assert center_digit(np.zeros((0, 5))) is None


def test_center_digit_keeps_grey_levels_and_aspect_ratio():
    ink = np.zeros((100, 100))
    ink[10:90, 30:70] = 0.5  # a faint 80 x 40 block becomes a full-ink 20 x 10 block
    ink[10:50, 30:70] = 0.25  # with its top half a quarter as dark as the bottom
    digit = center_digit(ink)
    assert box_size(digit) == (20, 10)
    top, bottom = digit[digit.any(axis=1)][:10], digit[digit.any(axis=1)][10:]
    # Not binarised: relative grey levels survive, away from the step where Lanczos rings by a few per cent.
    assert np.median(top[top > 0]) == pytest.approx(0.5, abs=0.02)
    assert np.median(bottom[bottom > 0]) == pytest.approx(1.0, abs=0.02)


def test_center_digit_shrinks_with_anti_aliasing():
    ink = np.zeros((100, 100))
    ink[:, 0:10] = 1.0  # a 10 px bar: 2 px of full ink once shrunk 5 times
    ink[:, 99] = 1.0  # a 1 px line: a fifth of a pixel's ink, so a faint grey column, not dropped or made solid
    digit = center_digit(ink)
    assert box_size(digit) == (20, 20)
    columns = np.flatnonzero(digit.any(axis=0))
    line = digit[:, columns[-1]][digit[:, columns[-1]] > 0]
    assert 0.1 < np.median(line) < 0.3
    assert np.median(digit[:, columns[0]][digit[:, columns[0]] > 0]) == pytest.approx(1.0, abs=0.05)


def test_center_digit_does_not_push_ink_off_the_frame():
    ink = np.zeros((40, 40))
    ink[0:36, 0:2] = 1.0  # an upright bar on a heavy foot: the centre of mass is so low
    ink[36:40, 0:40] = 1.0  # that centring it would push the foot off the bottom
    digit = center_digit(ink)
    assert box_size(digit) == (20, 20)
    assert digit[0].sum() > 0  # moved up as far as it can go ...
    assert centre_of_mass(digit)[0] > 14.5  # ... which is not far enough to centre it
    assert digit.sum() == pytest.approx(ink.sum() / 4, rel=0.01)  # halved each way, nothing lost


def test_center_digit_rejects_non_2d_input():
    with pytest.raises(ValueError, match="2-D"):
        center_digit(np.zeros((4, 4, 3)))


# --- MNIST round trip -----------------------------------------------------------------------


def test_mnist_like_digit_upscaled_on_canvas_comes_back_unchanged():
    mnist_like = np.round(center_digit(draw_ink("seven", 200, 30, 50)) * 255).astype(np.uint8)
    upscaled = np.repeat(np.repeat(mnist_like, 10, axis=0), 10, axis=1)
    canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    canvas[..., :3] = upscaled[..., None]
    canvas[..., 3] = np.where(upscaled > 0, 255, 0)
    digit = digit_from_canvas(canvas)
    # In fact it is the same, grey level for grey level, but for a few levels of Lanczos ringing at the edges:
    assert np.abs(digit - mnist_like / 255.0).mean() < 0.01
    assert np.abs(digit - mnist_like / 255.0).max() < 0.1
