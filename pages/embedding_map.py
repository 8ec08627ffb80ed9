"""Embedding map: test digits placed by the model's penultimate-layer features, PCA at once, t-SNE on request.

t-SNE runs in a server thread (core/embedding_jobs.py) that a fragment polls while it runs and
stops polling once it ends; the finished map is kept for every session that asks for it again.
"""

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.embedding import PCA_METHOD, TSNE_METHOD, EmbeddingMap
from core.analysis.inspection import predict_digit
from core.disputed_labels import DISPUTED_NOTE, disputed_test_indices
from core.litert_forward import prepare_litert_forward
from dashboard import digit_picker, embedding_charts, state
from dashboard.page_registry import PAGES, heading_of

SIZE_CHOICES = (500, 1000, 2000, 5000, 10_000)
POLL_SECONDS = 1.0
SHOWN_THUMBNAILS = 48  # digits shown for a selection: a box may hold hundreds
METHOD_KEY = "embedding_method"
SIZE_KEY = "embedding_size"
# The Activations page's image-source radio and its option for the selected test image (pages/activations.py).

st.title(heading_of(__file__))
active = state.require_active_model()
prepare_litert_forward(active.model)  # converted while the page lays out, not at the first digit
state.model_to_inspect(active)  # for an ensemble: a caption saying whose features these are
data, _ = state.load_data()


def size_ui(test_count: int) -> int:
    """How many test images to map: up to 10,000, and no more than the test set holds."""
    largest = min(state.EMBEDDING_MAX_SAMPLE_SIZE, test_count)
    choices = sorted({size for size in SIZE_CHOICES if size < largest} | {largest})
    default = min(state.EMBEDDING_SAMPLE_SIZE, largest)
    default = max(size for size in choices if size <= default)
    return st.select_slider("Test images on the map", choices, value=default, key=SIZE_KEY)


def tsne_ui(size: int) -> EmbeddingMap | None:
    """The t-SNE map when it is ready; else the button to start it, or its progress."""
    key = state.tsne_key(active, size)
    job = state.tsne_jobs().get(key)
    status = job.status() if job else None
    if status is not None and status.state == "done":
        st.caption(f"t-SNE computed in {status.elapsed:.1f} s, kept for later visits.")
        return status.result
    if status is not None and status.is_active:
        st.fragment(tsne_progress, run_every=POLL_SECONDS)(key)
        return None
    if status is not None and status.state == "cancelled":
        st.warning("t-SNE cancelled.", icon=":material/stop:")
    elif status is not None:
        st.error(f"t-SNE failed: {status.error}")
    st.caption(
        "t-SNE keeps each digit's neighbours together and takes a few seconds per thousand images; "
        "it runs on the server and is kept per model and sample size. The PCA map shows meanwhile."
    )
    if st.button("Compute t-SNE", icon=":material/scatter_plot:", type="primary"):
        state.tsne_jobs().start(key, state.embedding_sample_of(active, size))
        st.rerun()
    return None


def tsne_progress(key) -> None:
    """Polled while the t-SNE runs; when it ends, one rerun of the page shows the map (and polling stops)."""
    job = state.tsne_jobs().get(key)
    status = job.status() if job else None
    if status is None or not status.is_active:
        st.rerun(scope="app")
    label = f"t-SNE: iteration {status.iteration} of {status.iterations or '…'} · {status.elapsed:.0f} s"
    st.progress(status.fraction_done, text=label)
    if st.button("Cancel t-SNE", icon=":material/stop:"):
        job.cancel()


def drawn_point(size: int, embedding_map: EmbeddingMap) -> tuple[float, float] | None:
    """The last drawing's place on the map, with a note; a hint to draw when there is none."""
    drawing = st.session_state.get(state.LAST_DRAWN_DIGIT_KEY)
    if drawing is None:
        st.info("Draw a digit on the **Draw** page to see where it lands on this map.", icon=":material/draw:")
        return None
    image = np.asarray(drawing, dtype=np.float32)
    point = state.placed_digit(active, size, embedding_map, image)
    predicted = int(np.argmax(predict_digit(active.model, image)))
    st.caption(f"The black diamond is your last drawing (predicted **{predicted}**), placed by the same projection.")
    return point


def selection_ui(rows: pd.DataFrame) -> None:
    if rows.empty:
        st.caption("Hover a point to see its digit; click one (shift-click for more) or drag a box to list them here.")
        return
    errors = int((rows["outcome"] == embedding_charts.ERROR).sum())
    st.markdown(f"**{len(rows)} selected** · {errors} misclassified")
    shown = rows.head(SHOWN_THUMBNAILS)
    captions = [
        f"#{row.index} · {row.digit}→{row.predicted}" + (f" · {DISPUTED_NOTE}" if row.note else "")
        for row in shown.itertuples()
    ]
    st.image(list(shown["image"]), caption=captions, width=80)
    if len(rows) > SHOWN_THUMBNAILS:
        st.caption(f"The first {SHOWN_THUMBNAILS} of {len(rows)} shown.")
    if len(rows) == 1 and st.button("Open in Activations", icon=":material/hub:"):
        st.session_state[state.SELECTED_TEST_INDEX_KEY] = int(rows["index"].iloc[0])
        st.session_state[digit_picker.source_key("activation")] = digit_picker.SELECTED  # shown there at once
        st.switch_page(next(page for page in PAGES if page.script == "activations.py").path)


size = size_ui(len(data.y_test))
method = st.radio("Projection", [PCA_METHOD, TSNE_METHOD], horizontal=True, key=METHOD_KEY)
embedding_map = tsne_ui(size) if method == TSNE_METHOD else None
if embedding_map is None:
    embedding_map = state.pca_map_of(active, size)

thumbnails = state.sample_thumbnails(data.description, tuple(int(i) for i in embedding_map.indices))
frame = embedding_charts.map_frame(embedding_map, thumbnails, disputed_test_indices(data))
point = drawn_point(size, embedding_map)
st.caption(
    f"{len(frame)} test images (a stratified sample) coloured by their true digit; "
    f"the {int(embedding_map.errors.sum())} the model gets wrong are dark-outlined crosses."
)
event = st.altair_chart(
    embedding_charts.embedding_scatter(frame, embedding_map.method, point),
    on_select="rerun",
    selection_mode=[embedding_charts.PICK_PARAM, embedding_charts.BOX_PARAM],
    key=f"embedding_map_{embedding_map.method}_{size}",
    width="stretch",
)
selection_ui(embedding_charts.selected_rows(frame, event.selection if event else {}))
