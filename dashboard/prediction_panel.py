"""The Draw page's result as one small HTML element: the 28×28 input, the predicted digit, probability bars.

It is redrawn after every stroke of every visitor. As one element (st.html) it costs the browser a
fraction of a Plotly chart plus an st.image, whose file the browser fetches separately, and
Plotly's library (megabytes of JavaScript) is not loaded on the page's first stroke.
"""

from __future__ import annotations

import html

import numpy as np

from core.analysis.calibration import answer
from dashboard.inline_images import png_data_uri

PREDICTED_COLOUR, OTHER_COLOUR = "#3b5bdb", "#adb5bd"  # as charts.probability_bars
PREVIEW_SIZE = 140
LABEL_THRESHOLD = 0.01  # bars under 1 % carry no label, as in charts.probability_bars

STYLE = f"""<style>
.dl-panel {{ font-family: inherit; }}
.dl-result {{ display: flex; gap: 1.5rem; align-items: flex-start; }}
.dl-result figure {{ margin: 0; text-align: center; width: {PREVIEW_SIZE}px; }}
.dl-result img {{ width: {PREVIEW_SIZE}px; height: {PREVIEW_SIZE}px; border-radius: 0.5rem; display: block; }}
.dl-result figcaption, .dl-caption {{ color: rgba(49, 51, 63, 0.6); font-size: 0.875rem; }}
.dl-result h3 {{ margin: 0 0 0.25rem 0; padding: 0; font-size: 1.75rem; font-weight: 600; }}
.dl-bars {{ display: flex; gap: 0.5rem; height: 200px; margin-top: 1.5rem; border-bottom: 1px solid #dee2e6; }}
.dl-bar {{ flex: 1; display: flex; flex-direction: column; justify-content: flex-end; align-items: center; }}
.dl-bar span {{ font-size: 0.75rem; color: rgba(49, 51, 63, 0.6); min-height: 1rem; }}
.dl-bar div {{ width: 75%; min-height: 1px; border-radius: 2px 2px 0 0; }}
.dl-digits {{ display: flex; gap: 0.5rem; font-size: 0.875rem; }}
.dl-digits span {{ flex: 1; text-align: center; }}
</style>"""


def probability_bars(probabilities: np.ndarray) -> str:
    """One bar per digit, its height the probability; the predicted digit's bar stands out."""
    predicted = int(np.argmax(probabilities))
    bars = []
    for digit, probability in enumerate(np.asarray(probabilities, dtype=float)):
        colour = PREDICTED_COLOUR if digit == predicted else OTHER_COLOUR
        label = f"{probability:.0%}" if probability >= LABEL_THRESHOLD else ""
        described = f"digit {digit}: {probability:.2%}"
        bars.append(
            f'<div class="dl-bar" title="{described}" aria-label="{described}"><span>{label}</span>'
            f'<div style="height: {probability * 90:.1f}%; background: {colour}"></div></div>'
        )
    digits = "".join(f"<span>{digit}</span>" for digit in range(10))
    return f'<div class="dl-bars">{"".join(bars)}</div><div class="dl-digits">{digits}</div>'


def prediction_panel(
    digit: np.ndarray,
    probabilities: np.ndarray,
    source: str,
    not_sure_below: float | None = None,
    temperature: float | None = None,
) -> str:
    """The whole result: what the model saw, its answer and confidence, and every digit's probability.

    Under `not_sure_below` the answer is "Not sure" with the best guess beside it; `temperature`
    says the probabilities were temperature-scaled (the Calibration page's toggle).
    """
    predicted = int(np.argmax(probabilities))
    confidence = f"{probabilities[predicted]:.1%} confident"
    if temperature is not None:
        confidence += f" (calibrated, T = {temperature:.2f})"
    if answer(probabilities, not_sure_below) is None:
        heading = "Not sure"
        caption = f"best guess {predicted}, {confidence}: under your {not_sure_below:.0%} threshold"
    else:
        heading, caption = f"Prediction: <strong>{predicted}</strong>", confidence
    return (
        f'{STYLE}<div class="dl-panel"><div class="dl-result">'
        f'<figure><img src="{png_data_uri(digit)}" alt="the 28×28 image the model sees">'
        "<figcaption>what the model sees (28×28)</figcaption></figure>"
        f"<div><h3>{heading}</h3>"
        f'<div class="dl-caption">{caption} · from your {html.escape(source)}</div>'
        f"</div></div>{probability_bars(probabilities)}</div>"
    )
