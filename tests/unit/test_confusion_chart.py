"""The confusion matrix's colours: zero errors white, the diagonal apart, more errors redder."""

import numpy as np

from dashboard.confusion_charts import DIAGONAL_COLOUR, cell_colours, confusion_matrix_chart, confusion_table


def test_no_error_is_white_the_diagonal_blue_and_the_worst_cell_reddest():
    confusion = np.array([[50, 0, 1], [4, 40, 0], [0, 9, 45]])
    table = confusion_table(confusion)
    colours = dict(
        zip(
            zip(table["true"], table["predicted"], strict=True),
            cell_colours(table["count"].to_numpy(), table["diagonal"].to_numpy()),
            strict=True,
        )
    )
    assert {colours[(d, d)] for d in range(3)} == {DIAGONAL_COLOUR}
    assert colours[(0, 1)] == colours[(1, 2)] == "#ffffff"
    assert colours[(2, 1)] == "#e03131"  # the most errors
    greenness = {cell: int(colours[cell][3:5], 16) for cell in [(0, 2), (1, 0), (2, 1)]}
    assert greenness[(0, 2)] > greenness[(1, 0)] > greenness[(2, 1)]  # redder with more errors


def test_the_chart_carries_the_colours_and_one_click_selection():
    spec = confusion_matrix_chart(np.eye(3, dtype=int) * 5, normalised=False).to_dict()
    assert [param["name"] for param in spec["params"]] == ["cell"]
    assert spec["layer"][0]["encoding"]["color"] == {"field": "fill", "legend": None, "scale": None, "type": "nominal"}
