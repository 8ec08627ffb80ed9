"""Training curves: loss and accuracy per epoch, best epoch, early-stopping point, configuration."""

import pandas as pd
import streamlit as st

from dashboard import charts, state
from dashboard.page_registry import heading_of

# What early stopping kept the weights of, by the run's monitor (runs from before the choice: val_loss).
BEST_BY = {"val_loss": "lowest val. loss", "val_accuracy": "highest val. accuracy"}

st.title(heading_of(__file__))
active = state.require_active_model()
record = active.record
if record is None or not record.history:
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

best, stopped, config = record.best_epoch, record.stopped_epoch, record.config
accuracy = record.test_metrics.accuracy
columns = st.columns(4)
columns[0].metric("Test accuracy", "n/a" if accuracy is None else f"{accuracy:.2%}")
columns[1].metric(f"Best epoch ({BEST_BY[config.early_stopping_monitor]})", best)
columns[2].metric("Epochs run", f"{stopped} / {config.epochs}")
columns[3].metric("Training time", f"{record.training_seconds:.1f} s")
if record.training_precision != "float32":
    st.caption(
        f"Trained in {record.training_precision} (bfloat16 arithmetic, float32 weights) and validated in it; "
        "the saved model is float32."
    )
if record.early_stopped:
    st.caption(
        f"Early stopping ended training after epoch {stopped} (patience {config.patience}, watching "
        f"{config.early_stopping_monitor}); the weights of epoch {best} were kept."
    )
else:
    st.caption(f"Early stopping watched {config.early_stopping_monitor}: the weights of epoch {best} were kept.")

st.plotly_chart(charts.training_curves(record.history, best, stopped), key="training_curves")
st.caption("Dashed green line: best epoch (weights kept). Dotted grey line: last epoch run.")

with st.expander("Per-epoch table"):
    st.dataframe(pd.DataFrame(record.history).set_index("epoch"), width="stretch")

left, right = st.columns(2)
with left:
    st.subheader("Configuration")
    st.dataframe(
        pd.DataFrame({"value": {key: str(value) for key, value in config.to_dict().items()}}),
        width="stretch",
        height="content",  # all settings, not the first ten behind an inner scrollbar
    )
with right:
    st.subheader("Data and environment")
    data = record.data
    facts = {
        "data source": data.description,
        "training images": data.train_used,
        "validation images": data.validation,
        "test images": data.test,
        "parameters": record.parameters,
        "created": record.created,
        **{f"{name} version": version for name, version in record.versions.items()},
    }
    st.dataframe(pd.DataFrame({"value": {k: str(v) for k, v in facts.items()}}), width="stretch")
