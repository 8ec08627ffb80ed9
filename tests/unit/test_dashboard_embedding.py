"""The Embedding map's selection (dashboard/embedding_charts.py): picked and boxed points, each once.

Pure: the page itself is tested with AppTest (tests/app/test_dashboard_embedding.py) and clicked in a
real browser (tests/browser/test_embedding.py).
"""

from __future__ import annotations

import pandas as pd

from dashboard.embedding_charts import BOX_PARAM, PICK_PARAM, selected_rows

# ---- selection (pure: the browser suite clicks) ----------------------------------------------------


def test_picked_and_boxed_points_are_selected_once():
    frame = pd.DataFrame({"index": [10, 11, 12, 13], "x": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 1.0, 2.0, 3.0]})
    assert selected_rows(frame, {}).empty
    picked = selected_rows(frame, {PICK_PARAM: [{"index": 13}]})
    assert picked["index"].tolist() == [13]
    both = selected_rows(frame, {PICK_PARAM: [{"index": 11}], BOX_PARAM: {"x": [2.5, 0.5], "y": [0.5, 2.5]}})
    assert both["index"].tolist() == [11, 12]
