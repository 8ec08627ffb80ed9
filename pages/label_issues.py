"""Label issues: the test (and, on demand, training) images whose given label is most likely wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.label_issues import DEFAULT_TOP, LabelIssues, disputed_in_top, suspects_table
from core.analysis.out_of_sample import DEFAULT_EPOCHS, DEFAULT_IMAGES, MIN_IMAGES, RECIPE, Budget
from core.disputed_labels import CITATION, DISPUTED_NOTE, DISPUTED_TEST_INDICES, disputed_test_indices
from core.errors import ConfigError
from dashboard import charts, state
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import heading_of

SHOWN_CHOICES = (25, 50, 100, 200, 500)
IMAGE_CHOICES = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000)
FOLD_CHOICES = (2, 3, 4, 5)
POLL_SECONDS = 2.0
BUDGET_KEY = "label_issues_budget"  # the training-set budget this session last started
STARTED_KEY = "label_issues_started"  # budgets this session started (it alone may cancel them)


def display_table(issues: LabelIssues, images: np.ndarray, count: int, disputed: frozenset[int]) -> pd.DataFrame:
    """The suspects with thumbnails (inline PNGs) and a note column, as st.dataframe shows them."""
    table = suspects_table(issues, count, disputed)
    table.insert(2, "image", [png_data_uri(images[index]) for index in table["index"]])
    table["note"] = np.where(table["label disputed"], DISPUTED_NOTE, "")
    return table[["rank", "image", "index", "given label", "predicted", "quality score", "top 3", "flagged", "note"]]


def suspects_ui(issues: LabelIssues, images: np.ndarray, disputed: frozenset[int], key: str) -> int:
    """The table of suspects; returns the image index to look at closer (the selected row, else rank 1)."""
    shown = st.select_slider("Suspects shown", SHOWN_CHOICES, DEFAULT_TOP, key=f"{key}_shown")
    table = display_table(issues, images, min(shown, len(issues.labels)), disputed)
    event = st.dataframe(
        table,
        key=f"{key}_table",
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        row_height=40,
        column_config={
            "image": st.column_config.ImageColumn("image", width="small"),
            "quality score": st.column_config.NumberColumn(format="%.4f", help="label quality: low = suspect"),
            "top 3": st.column_config.TextColumn("model's top 3", width="medium"),
            "flagged": st.column_config.CheckboxColumn(help="flagged by confident learning (find_label_issues)"),
        },
    )
    rows = event.selection.rows if event else []
    return int(table["index"].iloc[rows[0] if rows else 0])


def closer_look_ui(issues: LabelIssues, images: np.ndarray, index: int, disputed: frozenset[int], what: str) -> None:
    """One suspect large, with the model's probabilities (select a row of the table to change it)."""
    label, predicted = int(issues.labels[index]), int(issues.predictions[index])
    rank = int(np.flatnonzero(issues.ranking == index)[0]) + 1
    note = f" · **{DISPUTED_NOTE}**" if index in disputed else ""
    image_column, bars_column = st.columns([1, 3])
    image_column.image(png_data_uri(images[index]), width=140, caption=f"{what} image #{index}")
    with bars_column:
        st.markdown(
            f"Rank **{rank}** · given **{label}** · predicted **{predicted}** · "
            f"quality {issues.scores[index]:.4f}{note}"
        )
        figure = charts.probability_bars(issues.probabilities[index], true_label=label, height=200)
        st.plotly_chart(figure, key=f"{what}_closer_probabilities")
    st.caption("Green outline: the given label. Select a row of the table to look at another image.")


def download_ui(issues: LabelIssues, disputed: frozenset[int], file_name: str, label: str, key: str) -> None:
    """Every image of the set, worst first (no thumbnails), as CSV."""
    csv = suspects_table(issues, None, disputed).to_csv(index=False)
    st.download_button(
        label,
        csv,
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=key,
        on_click="ignore",
    )


def disputed_ui(issues: LabelIssues, disputed: frozenset[int]) -> None:
    """How many of the 15 human-disputed labels the top 100 holds (standard MNIST test set only)."""
    if not disputed:
        st.info(
            f"The {len(DISPUTED_TEST_INDICES)} MNIST test labels human raters disputed ({CITATION}) are "
            "positions in the standard 10,000-image test set; this test set is the offline sample, so that "
            "list does not apply here.",
            icon=":material/info:",
        )
        return
    found = disputed_in_top(issues, disputed, DEFAULT_TOP)
    st.metric(
        f"Human-disputed labels among the {DEFAULT_TOP} most suspect",
        f"{len(found)} of {len(disputed)}",
        help=f"Test images a majority of raters judged mislabelled: {CITATION}.",
    )
    st.caption(f"Found: {', '.join(f'#{i}' for i in found) or 'none'} · source: {CITATION}.")


# ---- training set --------------------------------------------------------------------------------


def budget_ui(train_count: int) -> None:
    """The budget form; Start launches (or joins) the server's job for that budget."""
    images = [n for n in IMAGE_CHOICES if MIN_IMAGES <= n < train_count] + [train_count]
    default_images = min(DEFAULT_IMAGES, train_count)
    with st.form("label_issues_budget_form", border=False):
        left, middle, right = st.columns(3)
        count = left.select_slider("Training images (the first N)", images, default_images, format_func="{:,}".format)
        epochs = middle.number_input("Epochs per fold", 1, 10, DEFAULT_EPOCHS)
        folds = right.select_slider("Folds", FOLD_CHOICES, 4)
        start = st.form_submit_button("Start", type="primary", icon=":material/play_arrow:")
    if start:
        budget = Budget(images=int(count), epochs=int(epochs), folds=int(folds))
        data, _ = state.load_data()
        jobs = state.out_of_sample_jobs()
        before = jobs.get(data, budget)
        try:
            job = jobs.start(data, budget)
        except ConfigError as error:
            st.error(str(error))
            return
        st.session_state[BUDGET_KEY] = budget
        if job is not before:  # this session started it (joining another visitor's job gives no cancel)
            st.session_state.setdefault(STARTED_KEY, set()).add(budget)


def training_job_status():
    budget = st.session_state.get(BUDGET_KEY)
    data, _ = state.load_data()
    job = state.out_of_sample_jobs().get(data, budget) if budget else None
    return job, (job.status() if job else None)


def training_progress(polling: bool) -> None:
    """Polled while the session's training-set job runs; a full rerun when it ends stops the polling."""
    job, status = training_job_status()
    if status is None:
        return
    if not status.is_active:
        if polling:
            st.rerun(scope="app")
        return
    fold = max(status.fold, 1)
    text = f"Fold {fold} of {status.budget.folds} · {status.budget.describe()} · {status.elapsed:.0f} s"
    st.progress(status.fraction_done, text=text)
    if status.budget in st.session_state.get(STARTED_KEY, set()):
        if st.button("Cancel", icon=":material/stop:", key="label_issues_cancel"):
            job.cancel()
    else:
        st.caption("Another visitor started this computation; its result will show here too.")


def training_result_ui() -> None:
    _, status = training_job_status()
    if status is None or status.is_active:
        return
    if status.state == "cancelled":
        st.warning("Cancelled: no training-set ranking for this budget.", icon=":material/stop:")
        return
    if status.state == "failed":
        st.error(f"The out-of-sample training failed: {status.error}")
        return
    issues = status.issues
    data, _ = state.load_data()
    st.success(
        f"{status.budget.describe()}: {issues.flagged_count} flagged by confident learning ({status.elapsed:.0f} s).",
        icon=":material/check_circle:",
    )
    index = suspects_ui(issues, data.x_train, frozenset(), "train")
    closer_look_ui(issues, data.x_train, index, frozenset(), "training")
    download_ui(issues, frozenset(), "label-issues-train.csv", "Download the training-set ranking (CSV)", "train_csv")


def training_set_ui(train_count: int) -> None:
    st.subheader("Training set, on demand")
    st.caption(
        "A model vouches for the labels it trained on, wrong ones included. So each training image is "
        f"predicted by a `{RECIPE}` (the speed recipe) trained on the other folds, never by one that saw it. "
        "The probabilities come from that recipe, not from the active model, and are shared by every "
        "visitor who asks for the same budget."
    )
    budget_ui(train_count)
    _, status = training_job_status()
    polling = status is not None and status.is_active
    st.fragment(training_progress, run_every=POLL_SECONDS if polling else None)(polling)
    training_result_ui()


# ---- the page ------------------------------------------------------------------------------------

st.title(heading_of(__file__))
active = state.require_active_model()
data, _ = state.load_data()
issues = state.label_issues_of(active)
disputed = disputed_test_indices(data)

st.caption(
    f"cleanlab's label-quality score ({issues.method.replace('_', ' ')}: the probability the active model "
    "gives the given label) ranks the test images, most suspect first; confident learning "
    "(`find_label_issues`) flags those it judges mislabelled. The model never trained on the test set, "
    "so its probabilities there are out of sample, as confident learning requires."
)
st.subheader("Test set")
top_left, top_right = st.columns(2)
top_left.metric("Flagged by confident learning", f"{issues.flagged_count:,} of {len(issues.labels):,}")
with top_right:
    disputed_ui(issues, disputed)
index = suspects_ui(issues, data.x_test, disputed, "test")
closer_look_ui(issues, data.x_test, index, disputed, "test")
download_ui(issues, disputed, "label-issues-test.csv", "Download the ranking (CSV)", "test_csv")

training_set_ui(len(data.y_train))
