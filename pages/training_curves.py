"""Training curves: loss and accuracy per epoch, best epoch, early-stopping point, configuration."""

import pandas as pd
import streamlit as st

from dashboard import charts, state

st.title("Training curves")
active = state.require_active_model()
record = active.record
history = record.get("history", [])
if not history:
    if active.ensemble_runs:
        st.info("An ensemble has no training history of its own; load a member run to see its curves.")
        st.dataframe(
            [
                {"member": run.run_id, "arch": run.config.arch, "test accuracy": run.test_accuracy}
                for run in active.ensemble_runs
            ],
            width="stretch",
        )
    else:
        st.info("This model has no training history (it was uploaded, not trained here).")
    st.stop()

best, stopped = record.get("best_epoch"), record.get("stopped_epoch")
config = record.get("config", {})
columns = st.columns(4)
columns[0].metric("Test accuracy", f"{record['test_metrics']['accuracy']:.2%}")
columns[1].metric("Best epoch (lowest val. loss)", best)
columns[2].metric("Epochs run", f"{stopped} / {config.get('epochs')}")
columns[3].metric("Training time", f"{record.get('training_seconds', 0):.1f} s")
if record.get("early_stopped"):
    st.caption(
        f"Early stopping ended training after epoch {stopped} (patience {config.get('patience')}); "
        f"the weights of epoch {best} were kept."
    )

st.plotly_chart(charts.training_curves(history, best, stopped), key="training_curves")
st.caption("Dashed green line: best epoch (weights kept). Dotted grey line: last epoch run.")

with st.expander("Per-epoch table"):
    st.dataframe(pd.DataFrame(history).set_index("epoch"), width="stretch")

left, right = st.columns(2)
with left:
    st.subheader("Configuration")
    st.dataframe(
        pd.DataFrame({"value": {key: str(value) for key, value in config.items()}}),
        width="stretch",
        height="content",  # all settings, not the first ten behind an inner scrollbar
    )
with right:
    st.subheader("Data and environment")
    data = record.get("data", {})
    facts = {
        "data source": data.get("description"),
        "training images": data.get("train_used"),
        "validation images": data.get("validation"),
        "test images": data.get("test"),
        "parameters": record.get("parameters"),
        "created": record.get("created"),
        **{f"{name} version": version for name, version in record.get("versions", {}).items()},
    }
    st.dataframe(pd.DataFrame({"value": {k: str(v) for k, v in facts.items()}}), width="stretch")
