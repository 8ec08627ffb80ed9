"""Compare: two or more models side by side on the same test set, with McNemar's test for each pair.

A link can name the runs: ?compare=RUN_A,RUN_B. The session's active model (an ensemble or an
uploaded model too) is always among the choices.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.comparison import (
    METRICS,
    Comparison,
    class_differences,
    compare,
    data_mismatch,
    disagreements,
    format_p,
)
from core.analysis.evaluation import Evaluation
from core.disputed_labels import DISPUTED_NOTE, disputed_test_indices
from core.errors import DataMismatchError
from core.record import RunRecord
from dashboard import compare_charts, gallery, state
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import heading_of

COMPARE_PARAM = "compare"
PICKER_KEY = "compare_picker"
ACTIVE_OPTION = "active"  # the session's active model when it is not a saved run


@dataclass(frozen=True)
class Contender:
    """A model that can be compared: a saved run, or the session's ensemble or uploaded model."""

    option: str  # the picker's value: a run id, or ACTIVE_OPTION
    name: str  # as tables, charts and sentences show it
    record: RunRecord | None
    run: state.RunInfo | None = None

    def evaluation(self, active: state.ActiveModel) -> Evaluation:
        return state.run_evaluation(self.run) if self.run is not None else active.evaluation()


st.title(heading_of(__file__))
active = state.require_active_model()
data, _ = state.load_data()


def contenders() -> tuple[dict[str, Contender], dict[str, str]]:
    """The models on the loaded test set, by option; and the runs refused, with why."""
    runs, _ = state.run_listing()
    found, refused = {}, {}
    if active.run is None:
        found[ACTIVE_OPTION] = Contender(ACTIVE_OPTION, f"{active.label} (active)", None)
    for run in runs:
        name = run.annotations.name or run.run_id
        if name in {c.name for c in found.values()}:  # two runs of one name: tell them apart
            name = f"{name} ({run.run_id})"
        if problem := data_mismatch(run.record, data, run.run_id):
            refused[run.run_id] = problem
        else:
            found[run.run_id] = Contender(run.run_id, name, run.record, run)
    return found, refused


def initial_choice(found: dict[str, Contender], refused: dict[str, str]) -> list[str]:
    """The runs the link names; else the active model and the best other run by test accuracy."""
    if linked := st.query_params.get(COMPARE_PARAM):
        chosen = []
        for run_id in dict.fromkeys(part for part in linked.split(",") if part):
            if run_id in found:
                chosen.append(run_id)
            elif run_id in refused:
                st.warning(refused[run_id], icon=":material/block:")
            else:
                st.warning(f"The link names `{run_id}`, which is not in the run store.", icon=":material/link_off:")
        return chosen
    first = ACTIVE_OPTION if active.run is None else active.run.run_id
    others = [c for c in found.values() if c.option != first and c.record is not None]
    others.sort(key=lambda c: c.record.test_metrics.accuracy or 0.0, reverse=True)
    return [option for option in [first, *(c.option for c in others[:1])] if option in found]


def picker_ui(found: dict[str, Contender], refused: dict[str, str]) -> list[Contender]:
    if PICKER_KEY not in st.session_state:
        st.session_state[PICKER_KEY] = initial_choice(found, refused)
    else:  # a run deleted meanwhile leaves the choice
        st.session_state[PICKER_KEY] = [option for option in st.session_state[PICKER_KEY] if option in found]
    chosen = st.multiselect(
        "Models to compare",
        list(found),
        format_func=lambda option: found[option].name,
        key=PICKER_KEY,
        placeholder="choose two or more",
    )
    run_ids = [option for option in chosen if option != ACTIVE_OPTION]
    if run_ids:
        st.query_params[COMPARE_PARAM] = ",".join(run_ids)  # a link to this comparison
    else:
        st.query_params.pop(COMPARE_PARAM, None)
    if refused:
        with st.expander(f"{len(refused)} run(s) cannot be compared on this data"):
            for problem in refused.values():
                st.caption(problem)
    return [found[option] for option in chosen]


def metrics_ui(comparison: Comparison, letters: dict[str, str]) -> None:
    st.subheader("Scores on the test set")
    rows = [
        {
            "": letters[s.name],
            "model": s.name,
            "accuracy": s.accuracy,
            "95% interval (Wilson)": f"{s.low:.2%} – {s.high:.2%}",
            "macro F1": s.macro_f1,
            "errors": f"{s.errors} / {s.count}",
            "parameters": s.parameters,
            "training time (s)": s.training_seconds,
            "epochs": s.epochs,
        }
        for s in comparison.scores
    ]
    table = pd.DataFrame(rows)
    st.dataframe(
        table.style.format(
            {"accuracy": "{:.2%}", "macro F1": "{:.4f}", "parameters": "{:,.0f}", "training time (s)": "{:.1f}"},
            na_rep="n/a",
        ),
        hide_index=True,
        width="stretch",
    )


def tests_ui(comparison: Comparison) -> None:
    st.subheader("Is the difference real? McNemar's test")
    for pair in comparison.tests:
        icon = ":material/check_circle:" if pair.significant else ":material/remove:"
        st.markdown(f"{icon} {pair.sentence}")
    rows = [
        {
            "pair": f"{pair.first} vs {pair.second}",
            "only the first right": pair.test.first_only,
            "only the second right": pair.test.second_only,
            "test": pair.test.method,
            "p": format_p(pair.test.p_value),
            **({"p (Holm)": format_p(pair.p_adjusted)} if comparison.corrected else {}),
        }
        for pair in comparison.tests
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    holm = " P-values are Holm-corrected for the number of pairs." if comparison.corrected else ""
    st.caption(
        "The test counts only the images on which exactly one of the two models is right; exact binomial "
        f"when there are fewer than 25 of them, else chi-square with continuity correction; significant at 5 %.{holm}"
    )


def curves_ui(chosen: list[Contender], colours: dict[str, str]) -> None:
    st.subheader("Training curves")
    histories = {c.name: c.record.history for c in chosen if c.record is not None and c.record.history}
    if histories:
        st.plotly_chart(compare_charts.overlaid_curves(histories, colours), key="compare_curves")
        st.caption("Solid: validation; dotted: training.")
    without = [c.name for c in chosen if c.name not in histories]
    if without:
        st.caption("No training history (uploaded, or an ensemble): " + ", ".join(without) + ".")


def class_differences_ui(evaluations: list[tuple[str, Evaluation]], colours: dict[str, str]) -> None:
    reference = evaluations[0][0]
    st.subheader(f"Per digit, compared with {reference}")
    metric = st.segmented_control("Metric", list(METRICS), default="f1-score", key="compare_metric") or "f1-score"
    figure = compare_charts.class_difference_bars(class_differences(evaluations), metric, reference, colours)
    st.plotly_chart(figure, key="compare_class_differences")
    st.caption(f"Above zero: better than {reference} on that digit. The first model chosen is the reference.")


def disagreements_ui(evaluations: list[tuple[str, Evaluation]], letters: dict[str, str]) -> None:
    st.subheader("Where they disagree")
    left, right = st.columns([1, 3])
    digit = left.selectbox("True digit", ["all", *range(10)], key="disagree_digit")
    indices = disagreements([ev for _, ev in evaluations], None if digit == "all" else int(digit))
    legend = " · ".join(f"**{letters[name]}** {name}" for name, _ in evaluations)
    right.caption(f"{len(indices)} test images on which the models do not all agree. {legend}")
    if not len(indices):
        st.info("They agree on every test image" + ("." if digit == "all" else f" of a {digit}."))
        return
    pages = max(1, int(np.ceil(len(indices) / gallery.PER_PAGE)))
    page = st.number_input(f"Page (of {pages})", 1, pages, 1, key=f"disagree_page_{digit}") if pages > 1 else 1
    shown = indices[(page - 1) * gallery.PER_PAGE : page * gallery.PER_PAGE]
    disputed = disputed_test_indices(data)
    for start in range(0, len(shown), gallery.COLUMNS):
        for column, index in zip(st.columns(gallery.COLUMNS), shown[start : start + gallery.COLUMNS], strict=False):
            column.image(png_data_uri(data.x_test[index]), width="stretch")
            column.caption(who_is_right(int(index), evaluations, letters, disputed))


def who_is_right(index: int, evaluations: list[tuple[str, Evaluation]], letters: dict[str, str], disputed) -> str:
    """The true digit, then on a line of its own each model's letter, mark and prediction: "A ✓7 · B ✗1"."""
    label = int(evaluations[0][1].labels[index])
    parts = []
    for name, evaluation in evaluations:
        predicted = int(evaluation.predictions[index])
        parts.append(f"{letters[name]} {'✓' if predicted == label else '✗'}{predicted}")
    caption = f"true **{label}**  \n" + " · ".join(parts)
    return f"{caption} · :orange[{DISPUTED_NOTE}]" if index in disputed else caption


found, refused = contenders()
chosen = picker_ui(found, refused)
if len(chosen) < 2:
    st.info("Choose two or more models to compare.", icon=":material/compare_arrows:")
    st.stop()
evaluations = [(c.name, c.evaluation(active)) for c in chosen]
try:
    comparison = compare(evaluations, [c.record for c in chosen])
except DataMismatchError as error:
    st.error(str(error), icon=":material/block:")
    st.stop()
letters = {c.name: chr(ord("A") + i) if i < 26 else str(i + 1) for i, c in enumerate(chosen)}
colours = {c.name: compare_charts.colour_of(i) for i, c in enumerate(chosen)}
metrics_ui(comparison, letters)
tests_ui(comparison)
curves_ui(chosen, colours)
class_differences_ui(evaluations, colours)
disagreements_ui(evaluations, letters)
