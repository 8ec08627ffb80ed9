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
    section: str = ""  # the navigation's group heading ("" for Home, at the top)

    @property
    def path(self) -> str:
        """The script's path as st.Page and st.page_link take it (relative to dashboard/Home.py)."""
        return f"../pages/{self.script}"

    @property
    def module(self) -> str:
        """The script's name without .py (AppTest's switch_page and the URL path use it)."""
        return self.script.removesuffix(".py")


# The navigation's groups, in the order a visitor meets them.
RESULTS, WHY_IT_FAILS, INSIDE, RUNS, TRY_IT = "Results", "Why it fails", "Inside the model", "Runs", "Try it"

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
        section=RESULTS,
    ),
    PageSpec(
        "class_metrics.py",
        "Per-class metrics",
        ":material/table_chart:",
        "Per-class metrics",
        "precision, recall, F1 and support per digit, the confusion matrix (click a cell to see its images), "
        "and the pairs of digits the model mixes up most.",
        section=RESULTS,
    ),
    PageSpec(
        "misclassifications.py",
        "Misclassifications",
        ":material/error:",
        "Misclassifications",
        "a gallery of the test digits the model gets wrong, filtered by true and predicted digit, sorted by "
        "confidence.",
        section=RESULTS,
    ),
    PageSpec(
        "label_issues.py",
        "Label issues",
        ":material/label_off:",
        "Label issues",
        "the test images (and, on demand, training images) whose given label is most likely wrong, ranked by "
        "cleanlab, with the human-disputed MNIST labels marked.",
        section=WHY_IT_FAILS,
    ),
    PageSpec(
        "robustness.py",
        "Robustness",
        ":material/ssid_chart:",
        "Robustness",
        "test accuracy as each perturbation gets stronger, for the active model and another run or ensemble.",
        section=WHY_IT_FAILS,
    ),
    PageSpec(
        "calibration.py",
        "Calibration",
        ":material/thermostat:",
        "Calibration",
        "whether the model's confidence can be trusted: reliability diagrams before and after temperature "
        "scaling, ECE, log-loss and Brier score, and accuracy when it answers only above a confidence threshold.",
        section=WHY_IT_FAILS,
    ),
    PageSpec(
        "weights.py",
        "Weights",
        ":material/grid_on:",
        "Weights",
        "what the first hidden layer has learned, each unit's weights as an image, and which digits excite each "
        "unit most.",
        section=INSIDE,
    ),
    PageSpec(
        "activations.py",
        "Activations",
        ":material/hub:",
        "Activations",
        "every layer's response to one image, down to the output probabilities.",
        section=INSIDE,
    ),
    PageSpec(
        "embedding_map.py",
        "Embedding map",
        ":material/scatter_plot:",
        "Embedding map",
        "the test digits placed by what the model's last hidden layer sees of them (PCA, or t-SNE on request), "
        "coloured by digit, with its errors marked and your drawing among them.",
        section=INSIDE,
    ),
    PageSpec(
        "what_if.py",
        "What-if",
        ":material/tune:",
        "What if the digit were…",
        "rotate, shift, scale, thicken, blur, add noise to or distort one digit and watch the probabilities follow.",
        section=INSIDE,
    ),
    PageSpec(
        "compare.py",
        "Compare",
        ":material/compare_arrows:",
        "Compare models",
        "two or more models side by side: accuracy with its interval, McNemar's test for each pair, curves, "
        "per-digit differences and the images they disagree on.",
        section=RUNS,
    ),
    PageSpec(
        "runs.py",
        "Runs",
        ":material/folder_managed:",
        "Saved runs",
        "sort and filter the saved runs; rename, tag, annotate, download or delete one.",
        section=RUNS,
    ),
    PageSpec(
        "studies.py",
        "Studies",
        ":material/science:",
        "Hyperparameter studies",
        "a hyperparameter search read from its storage while workers run it: every trial with its state, "
        "parameters, score, duration and worker, the best so far against time, parameter importances; "
        "load any trial's run.",
        section=RUNS,
    ),
    PageSpec(
        "draw.py",
        "Draw",
        ":material/draw:",
        "Draw a digit",
        "draw a digit (or upload a photo of one) and watch the prediction live.",
        section=TRY_IT,
    ),
)
ANALYSIS_PAGES: tuple[PageSpec, ...] = tuple(page for page in PAGES if page is not HOME)
SECTIONS: dict[str, tuple[PageSpec, ...]] = {
    section: tuple(page for page in PAGES if page.section == section)
    for section in dict.fromkeys(page.section for page in PAGES)
}  # by heading, in order; Home's group is ""
HEADINGS: dict[str, str] = {page.title: page.heading for page in PAGES}  # by sidebar title


def heading_of(script_path: str) -> str:
    """The heading of the page whose script is at `script_path` (a page passes its __file__)."""
    name = script_path.replace("\\", "/").rsplit("/", 1)[-1]
    return next(page.heading for page in PAGES if page.script == name)
