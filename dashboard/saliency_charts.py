"""Saliency maps drawn over the digit: an RGBA PNG (inline, as dashboard.inline_images) and its colour scale.

Red pixels speak for the explained class, blue ones against it; the stronger, the more opaque.
A PNG rather than a Plotly chart: the Draw page shows it after each stroke, and a PNG of a few
kilobytes costs the browser nothing, where Plotly's library is megabytes.
"""

from __future__ import annotations

import html

import numpy as np

from core.analysis.saliency import SaliencyMap
from core.images import (  # noqa: F401  (the overlay is drawn by docs/results.md's figures too)
    AGAINST_COLOUR,
    FOR_COLOUR,
    MAX_OPACITY,
    UPSCALE,
    colour_limit,
    overlay_rgba,
    png_data_uri,
)


def overlay_png(image: np.ndarray, saliency_map: SaliencyMap) -> str:
    """The overlay as an inline PNG data URI."""
    return png_data_uri(overlay_rgba(image, saliency_map.attributions))


def colour_scale_html(saliency_map: SaliencyMap) -> str:
    """A horizontal colour bar with its end values: blue (against) – clear (0) – red (for)."""
    limit = colour_limit(saliency_map.attributions)
    signed = bool((saliency_map.attributions < 0).any())
    low = "rgba(31,119,180,0.85)" if signed else "rgba(214,39,40,0)"
    left = f"−{limit:.3g} against" if signed else "0"
    middle = "<span>0</span>" if signed else ""
    return (
        '<div class="dl-scale" style="width:224px;font-size:0.75rem;color:rgba(49,51,63,0.7)">'
        f'<div style="height:10px;border-radius:3px;background:linear-gradient(to right,{low},'
        f'rgba(255,255,255,0){" 50%" if signed else ""},rgba(214,39,40,0.85))"></div>'
        f'<div style="display:flex;justify-content:space-between"><span>{html.escape(left)}</span>{middle}'
        f"<span>+{limit:.3g} for</span></div></div>"
    )


def describe(saliency_map: SaliencyMap) -> str:
    """One line under the overlay: what is explained, and for integrated gradients the completeness check."""
    question = (
        f"why {saliency_map.target} and not {saliency_map.contrast}"
        if saliency_map.contrast is not None
        else f"why {saliency_map.target}"
    )
    text = f"{saliency_map.method}, {question}: red speaks for it, blue against"
    if saliency_map.method == "Grad-CAM":
        text = f"{saliency_map.method}, {question}: where the last convolutional block found evidence for it"
    if saliency_map.completeness_error is not None:
        difference = saliency_map.score - saliency_map.baseline_score
        text += (
            f". Attributions add up to {saliency_map.attributions.sum():.2f}; the score rose "
            f"{difference:.2f} from the {saliency_map.baseline} baseline "
            f"({saliency_map.completeness_error:.1%} apart)"
        )
    return text + "."
