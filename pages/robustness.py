"""Robustness: test accuracy as each perturbation gets stronger, for the active model and one to compare."""

import streamlit as st

from core.analysis.perturbations import PERTURBATIONS
from core.analysis.robustness import DEFAULT_SAMPLE, robustness_curves, sample_indices
from dashboard import robustness_charts, robustness_store, state
from dashboard.page_registry import heading_of

st.title(heading_of(__file__))
active = state.require_active_model()
data, _ = state.load_data()
test_count = len(data.y_test)

full = st.toggle(f"Measure on the full test set ({test_count:,} images)", key="robustness_full")
size = None if full or test_count <= DEFAULT_SAMPLE else DEFAULT_SAMPLE
st.caption(
    f"Each point is the accuracy on {'all' if size is None else f'a fixed sample of {size:,}'} test images, "
    "perturbed as on the What-if page; severity 0 is the clean images. The kinds and levels follow MNIST-C."
)

runs, _ = state.run_listing()
others = [run for run in runs if active.run is None or run.run_id != active.run.run_id]
compare = st.multiselect(
    "Compare with a saved run (choose several for their ensemble)",
    others,
    format_func=lambda run: run.label,
    key="robustness_compare",
)

models = [(active.key, active.label, lambda: active.model)]
if len(compare) == 1:
    run = compare[0]
    models.append((f"run:{run.path}", run.label, lambda: state.load_run_model(str(run.path.parent), run.run_id)))
elif compare:
    key = "ensemble:" + ",".join(sorted(str(run.path) for run in compare))
    ids = tuple(run.run_id for run in compare)
    models.append(
        (key, f"ensemble of {len(compare)} runs", lambda: state.load_ensemble(str(compare[0].path.parent), ids))
    )

results = {label: robustness_store.stored(key, data.description, size) for key, label, _ in models}
missing = [(key, label, load) for key, label, load in models if results[label] is None]
if missing:
    steps = sum(len(p.levels) for p in PERTURBATIONS) + 1
    names = " and ".join(label for _, label, _ in missing)
    slot = st.empty()  # the button, emptied once the measurement starts
    if slot.button(f"Measure {names} ({steps} passes each)", icon=":material/play_arrow:", key="robustness_measure"):
        slot.empty()
        indices = sample_indices(test_count, size)
        for key, label, load in missing:
            bar = st.progress(0.0, text=f"{label}: starting")

            def report(done, total, what, bar=bar, label=label):
                bar.progress(done / total, text=f"{label}: {what} ({done}/{total})")

            curves = robustness_curves(load(), data.x_test[indices], data.y_test[indices], progress=report)
            robustness_store.store(key, data.description, size, curves)
            results[label] = curves
            bar.empty()
    else:
        st.info("Not measured yet for this model and sample: press the button to measure.", icon=":material/info:")

measured = {label: curves for label, curves in results.items() if curves is not None}
if measured:
    st.plotly_chart(robustness_charts.curves_figure(measured), key="robustness_curves")
    st.dataframe(robustness_charts.curves_table(measured).style.format("{:.1%}"), key="robustness_table")
