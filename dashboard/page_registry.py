"""The dashboard's pages, listed once: navigation, Home's guide and the tests all read this list.

Plain data (no Streamlit, no TensorFlow), so tests and benchmarks can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page: its script, its place in the sidebar, its heading and what it shows."""

    script: str  # file name in the top-level pages/ folder
    title: str  # as the sidebar navigation shows it
    icon: str
    heading: str  # the page's h1
    description: str  # Home's one-line guide ("" for Home itself)

    @property
    def path(self) -> str:
        """The script's path as st.Page and st.page_link take it (relative to dashboard/Home.py)."""
        return f"../pages/{self.script}"

    @property
    def module(self) -> str:
        """The script's name without .py (AppTest's switch_page and the URL path use it)."""
        return self.script.removesuffix(".py")


HOME = PageSpec("home.py", "Home", ":material/home:", "Digit Lab", "")
PAGES: tuple[PageSpec, ...] = (
    HOME,
    PageSpec(
        "training_curves.py",
        "Training curves",
        ":material/show_chart:",
        "Training curves",
        "loss and accuracy per epoch, training vs validation, with the best epoch and the early-stopping point, "
        "and the run's configuration.",
    ),
    PageSpec(
        "class_metrics.py",
        "Per-class metrics",
        ":material/table_chart:",
        "Per-class metrics",
        "precision, recall, F1 and support per digit, the confusion matrix, and the pairs of digits the model "
        "mixes up most.",
    ),
    PageSpec(
        "misclassifications.py",
        "Misclassifications",
        ":material/error:",
        "Misclassifications",
        "a gallery of the test digits the model gets wrong, filtered by true and predicted digit, sorted by "
        "confidence.",
    ),
    PageSpec(
        "calibration.py",
        "Calibration",
        ":material/thermostat:",
        "Calibration",
        "whether the model's confidence can be trusted: reliability diagrams before and after temperature "
        "scaling, ECE, log-loss and Brier score, and accuracy when it answers only above a confidence threshold.",
    ),
    PageSpec(
        "weights.py",
        "Weights",
        ":material/grid_on:",
        "Weights",
        "what the first hidden layer has learned, each unit's weights as an image, and which digits excite each "
        "unit most.",
    ),
    PageSpec(
        "activations.py",
        "Activations",
        ":material/hub:",
        "Activations",
        "every layer's response to one image, down to the output probabilities.",
    ),
    PageSpec(
        "draw.py",
        "Draw",
        ":material/draw:",
        "Draw a digit",
        "draw a digit (or upload a photo of one) and watch the prediction live.",
    ),
)
ANALYSIS_PAGES: tuple[PageSpec, ...] = tuple(page for page in PAGES if page is not HOME)
HEADINGS: dict[str, str] = {page.title: page.heading for page in PAGES}  # by sidebar title


def heading_of(script_path: str) -> str:
    """The heading of the page whose script is at `script_path` (a page passes its __file__)."""
    name = script_path.replace("\\", "/").rsplit("/", 1)[-1]
    return next(page.heading for page in PAGES if page.script == name)
