"""docs/results.md and its figures, written from saved runs by `python -m core results`, never by hand.

One run represents each model family (the best on the validation split, never the test set), the
ensemble averages the convnet representatives, and every number in the document, the "Insights"
included, is computed here from those runs' test-set predictions, so regenerating after training
better runs updates every claim with it. The figures are small PNGs drawn with Pillow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.analysis.calibration import CalibrationReport, calibration_report
from core.analysis.comparison import ModelScores, compare, p_phrase, scores_of
from core.analysis.evaluation import Evaluation, evaluate, misclassified, most_confused_pairs
from core.analysis.inspection import first_layer_weights
from core.analysis.saliency import integrated_gradients
from core.data import MnistData
from core.disputed_labels import disputed_test_indices
from core.ensemble import build_ensemble
from core.images import overlay_rgba
from core.report import temperature_of
from core.run_selection import trained_on
from core.runs import RunInfo, RunStore

DIGITS = [str(digit) for digit in range(10)]
PAIR_EXAMPLES = 8  # images per confused pair
CONFUSED_PAIRS = 4
HARD_EXAMPLES = 16
SALIENCY_EXAMPLES = 6
INK = 0  # a training pixel above this is inked

Log = Callable[[str], None]


@dataclass(frozen=True)
class Family:
    """A kind of model the results compare, and how to train one."""

    title: str
    arch: str | None  # None: the best tuned trial (any architecture)
    command: str


FAMILIES = (
    Family("Seed MLP", "mlp", "python -m core train --arch mlp --epochs 3"),
    Family("Keras-example CNN", "cnn", "python -m core train --arch cnn --epochs 3"),
    Family("Fast recipe (fast_cnn)", "fast_cnn", "python -m core train --arch fast_cnn"),
    Family("Deep recipe (deep_cnn)", "deep_cnn", "python -m core train --arch deep_cnn   # 10–31 min here"),
    Family("Best tuned trial", None, "python -m core tune --trials 8 --minutes 20 --archs mlp,fast_cnn --epochs 3"),
)
ENSEMBLE_TITLE = "Ensemble"


@dataclass(frozen=True)
class FamilyResult:
    """One family's representative (a run, or the ensemble of several) and its test-set measurements."""

    title: str
    runs: tuple[RunInfo, ...]  # one run; the ensemble's members
    evaluation: Evaluation = field(repr=False)
    scores: ModelScores
    temperature: float
    calibration_before: CalibrationReport = field(repr=False)
    calibration_after: CalibrationReport = field(repr=False)

    @property
    def is_ensemble(self) -> bool:
        return len(self.runs) > 1

    @property
    def arch(self) -> str:
        return "+".join(run.config.arch for run in self.runs)


def choose_runs(runs: Sequence[RunInfo], data: MnistData) -> dict[str, RunInfo]:
    """Each family's best run on `data` by validation accuracy (the test set only reports)."""
    eligible = [run for run in runs if not run.record.is_uploaded and trained_on(run, data)]
    chosen = {}
    for family in FAMILIES:
        if family.arch is None:
            members = [run for run in eligible if run.study]
        else:
            members = [run for run in eligible if not run.study and run.config.arch == family.arch]
        if members:
            chosen[family.title] = max(members, key=lambda run: (run.record.validation_accuracy or 0.0, run.run_id))
    return chosen


def ensemble_members(chosen: dict[str, RunInfo]) -> tuple[RunInfo, ...]:
    """The convnet families' representatives (the MLP would drag the average down), or all when fewer than two."""
    singles = [run for title, run in chosen.items() if title != "Best tuned trial"]
    convnets = [run for run in singles if run.config.arch != "mlp"]
    members = convnets if len(convnets) >= 2 else singles
    return tuple(members) if len(members) >= 2 else ()


def measure(title: str, runs: Sequence[RunInfo], model: keras.Model, data: MnistData) -> FamilyResult:
    evaluation = evaluate(model, data.x_test, data.y_test)
    scaling, _ = temperature_of(model, runs, data)
    record = runs[0].record if len(runs) == 1 else None
    return FamilyResult(
        title=title,
        runs=tuple(runs),
        evaluation=evaluation,
        scores=scores_of(title, evaluation, record),
        temperature=scaling.temperature,
        calibration_before=calibration_report(evaluation.probabilities, evaluation.labels),
        calibration_after=calibration_report(evaluation.probabilities, evaluation.labels, scaling.temperature),
    )


# ---- the document ----------------------------------------------------------------------------------------


class Document:
    """Markdown lines and numbered figures written beside it."""

    def __init__(self, figures_dir: Path, link_prefix: str):
        self.lines: list[str] = []
        self.figures_dir, self.link_prefix = figures_dir, link_prefix
        self.figure_count = 0
        self.table_count = 0

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def figure(self, name: str, image: Image.Image, caption: str) -> str:
        """Save a PNG and add it; returns how to cite it ("[Figure 2](results/pairs.png)")."""
        self.figure_count += 1
        image.save(self.figures_dir / f"{name}.png", optimize=True)
        link = f"{self.link_prefix}/{name}.png"
        self.add(
            f"![Figure {self.figure_count}: {caption}]({link})", "", f"*Figure {self.figure_count}. {caption}*", ""
        )
        return f"[Figure {self.figure_count}]({link})"

    def table(self, caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
        self.table_count += 1
        anchor = f"table-{self.table_count}"
        self.add(f'<a id="{anchor}"></a>*Table {self.table_count}. {caption}*', "", markdown_table(header, rows), "")
        return f"[Table {self.table_count}](#{anchor})"


def write_results(
    store: RunStore, data: MnistData, output: Path, command: str, log: Log = print
) -> tuple[list[str], list[Family]]:
    """Write `output` (markdown) and its figures in `output`'s sibling folder named after it.

    Returns the families reported and those missing from the store.
    """
    runs, _ = store.list_runs()
    chosen = choose_runs(runs, data)
    if not chosen:
        raise_no_runs(store, data)
    figures_dir = output.parent / output.stem
    figures_dir.mkdir(parents=True, exist_ok=True)
    for old in figures_dir.glob("*.png"):
        old.unlink()
    models: dict[str, keras.Model] = {}
    results: list[FamilyResult] = []
    for title, run in chosen.items():
        log(f"evaluating {title}: {run.run_id}")
        models[title] = store.load_model(run.run_id)
        results.append(measure(title, [run], models[title], data))
    members = ensemble_members(chosen)
    if members:
        log(f"evaluating the ensemble of {len(members)}")
        ensemble = build_ensemble([store.load_model(run.run_id) for run in members])
        results.append(measure(ENSEMBLE_TITLE, members, ensemble, data))
    missing = [family for family in FAMILIES if family.title not in chosen]
    doc = Document(figures_dir, figures_dir.name)
    write_document(doc, results, models, data, missing, command, log)
    output.write_text("\n".join(doc.lines).rstrip() + "\n", encoding="utf-8")
    return [result.title for result in results], missing


def raise_no_runs(store: RunStore, data: MnistData) -> None:
    from core.errors import RunStoreError

    raise RunStoreError(
        f"no saved run in {store.root} was trained on the data loaded now ({data.description}): "
        "train some first (see docs/results.md, 'Regenerating')"
    )


def write_document(
    doc: Document,
    results: list[FamilyResult],
    models: dict[str, keras.Model],
    data: MnistData,
    missing: list[Family],
    command: str,
    log: Log,
) -> None:
    singles = [r for r in results if not r.is_ensemble]
    best = max(singles, key=lambda r: r.evaluation.accuracy)
    ensemble = next((r for r in results if r.is_ensemble), None)
    disputed = disputed_test_indices(data)
    insights: list[str] = []

    doc.add(
        "# Results",
        "",
        f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d} from the saved runs below, never by "
        "hand: regenerate it rather than edit it (see [Regenerating](#regenerating)). Test set: "
        f"{data.description}, {len(data.y_test):,} images. Each family is represented by its run with the best "
        "validation accuracy; accuracy intervals are 95 % Wilson intervals; training times are those the runs "
        "recorded (2-CPU hosts shared with other jobs, so they vary).",
        "",
    )
    if data.is_sample:
        doc.add("**These results are on the offline sample, not full MNIST: accuracies are lower.**", "")

    # ---- accuracy per family
    doc.add("## Accuracy per family", "")
    rows = [
        [
            r.title,
            ", ".join(f"`{run.run_id}`" for run in r.runs),
            r.arch,
            f"{r.scores.accuracy:.2%}",
            f"{r.scores.low:.2%} – {r.scores.high:.2%}",
            f"{r.scores.macro_f1:.4f}",
            f"{r.scores.errors:,}",
            fmt_optional(r.scores.parameters, "{:,}"),
            fmt_optional(training_seconds(r), "{:.0f} s"),
            fmt_optional(epochs(r), "{}"),
        ]
        for r in results
    ]
    summary_table = doc.table(
        "Test accuracy with its 95 % interval, macro F1 and errors per family; the ensemble's training time "
        "and epochs are its members' sums.",
        ["family", "run(s)", "arch", "test accuracy", "95 % interval", "macro F1", "errors", "parameters",
         "training", "epochs"],
        rows,
    )  # fmt: skip
    if missing:
        doc.add(
            "Not in this document (no saved run of theirs on this data): "
            + "; ".join(f"**{family.title}** (`{family.command}`)" for family in missing)
            + ". Train them into the same run store and regenerate.",
            "",
        )
    if ensemble is not None:
        doc.add(
            f"The ensemble averages the probabilities of {len(ensemble.runs)} runs: "
            + ", ".join(f"`{run.run_id}` ({run.config.arch})" for run in ensemble.runs)
            + " (the convnet families' representatives; all of them when fewer than two are convnets).",
            "",
        )

    # ---- per class
    doc.add("## Per digit", "")
    per_class_table = doc.table(
        "F1 per digit and family (precision and recall of the most accurate single model, "
        f"{best.title}, in the last two columns).",
        ["digit", *[r.title for r in results], f"precision ({best.title})", f"recall ({best.title})"],
        [
            [
                digit,
                *[f"{r.evaluation.report.loc[digit, 'f1-score']:.4f}" for r in results],
                f"{best.evaluation.report.loc[digit, 'precision']:.4f}",
                f"{best.evaluation.report.loc[digit, 'recall']:.4f}",
            ]
            for digit in DIGITS
        ],
    )
    hardest = [min(DIGITS, key=lambda d, r=r: r.evaluation.report.loc[d, "f1-score"]) for r in results]
    commonest = max(set(hardest), key=hardest.count)
    insights.append(
        f"Digit {commonest} has the lowest F1 in {hardest.count(commonest)} of the {len(results)} families "
        f"({per_class_table})."
    )

    # ---- confusion
    doc.add("## Confusion matrix", "")
    confusion_figure = doc.figure(
        "confusion",
        confusion_png(best.evaluation.confusion),
        f"Confusion matrix of {best.title} (`{best.runs[0].run_id}`), rows true, columns predicted; errors in "
        "red, darker for more.",
    )
    pair_shares = unordered_pairs(best.evaluation.confusion)
    if best.evaluation.errors and len(pair_shares) >= 2:
        (a, b, n1), (c, d, n2) = pair_shares[0], pair_shares[1]
        share = (n1 + n2) / best.evaluation.errors
        others = [
            (r.title, pair_share(r.evaluation.confusion, [(a, b), (c, d)]) / max(1, r.evaluation.errors))
            for r in results
            if r is not best and r.evaluation.errors
        ]
        spread = (
            f"; the same two pairs make {min(s for _, s in others):.0%}–{max(s for _, s in others):.0%} of the "
            "other families' errors"
            if others
            else ""
        )
        insights.append(
            f"{a}↔{b} and {c}↔{d} make {share:.0%} of {best.title}'s {best.evaluation.errors} errors "
            f"({n1} and {n2} images){spread} ({confusion_figure})."
        )

    # ---- confused pairs with examples
    doc.add("## Most confused pairs", "")
    pairs = most_confused_pairs(best.evaluation.confusion, top=CONFUSED_PAIRS)
    if pairs:
        rows_of_tiles, labels = [], []
        for pair in pairs:
            indices = misclassified(best.evaluation, pair.true, pair.predicted)[:PAIR_EXAMPLES]
            rows_of_tiles.append([data.x_test[i] for i in indices])
            labels.append(f"{pair.true} as {pair.predicted} ({pair.count})")
        pairs_figure = doc.figure(
            "confused_pairs",
            labelled_rows_png(rows_of_tiles, labels),
            f"{best.title}'s most frequent mistakes, true digit as predicted digit (count), the most confident "
            "examples first.",
        )
        doc.table(
            f"The most confused (true, predicted) pairs of {best.title}, with the share of that digit's images.",
            ["true", "predicted", "images", "share of the true digit"],
            [[p.true, p.predicted, p.count, f"{p.share_of_true:.2%}"] for p in pairs],
        )
        top = pairs[0]
        insights.append(
            f"The single most frequent mistake of {best.title} is a {top.true} read as {top.predicted}: "
            f"{top.count} images, {top.share_of_true:.1%} of the {top.true}s ({pairs_figure})."
        )

    # ---- weights
    doc.add("## What the weights show", "")
    mlp = next((r for r in singles if r.runs[0].config.arch == "mlp"), None)
    if mlp is not None:
        weights = first_layer_weights(models[mlp.title]).images
        blank = ~(data.x_train > INK).any(axis=0)
        magnitude = np.abs(weights)
        blank_mean, inked_mean = float(magnitude[:, blank].mean()), float(magnitude[:, ~blank].mean())
        weights_figure = doc.figure(
            "mlp_weights",
            weights_png(weights[:32]),
            f"The first 32 hidden units of {mlp.title} (`{mlp.runs[0].run_id}`): each unit's 784 input weights as a "
            "28×28 image, red positive, blue negative (each unit on its own scale).",
        )
        l2 = mlp.runs[0].config.l2
        why = (
            ": no gradient ever reaches a weight whose input is always 0, and without L2 decay nothing else "
            "moves it, so they keep their random initial values"
            if l2 == 0
            else ""
        )
        doc.add(
            f"The {int(blank.sum())} pixels that are blank in every "
            f"training image have mean |weight| {blank_mean:.4f}, against {inked_mean:.4f} for the others{why}.",
            "",
        )
        insights.append(
            f"The seed MLP's weights on the {int(blank.sum())} never-inked border pixels average "
            f"|w| = {blank_mean:.4f} against {inked_mean:.4f} elsewhere"
            + (": random initial values, never trained" if l2 == 0 else "")
            + f" ({weights_figure})."
        )
    else:
        doc.add("No MLP run: its first-layer weights, the readable ones, are not shown.", "")

    # ---- saliency and hard examples
    doc.add("## What saliency shows on the hardest errors", "")
    hard_errors = misclassified(best.evaluation)[:SALIENCY_EXAMPLES]
    if len(hard_errors):
        log(f"saliency of {len(hard_errors)} errors of {best.title}")
        tiles, captions, shares = [], [], []
        for index in hard_errors:
            true, predicted = int(best.evaluation.labels[index]), int(best.evaluation.predictions[index])
            image = data.x_test[index]
            attributions = integrated_gradients(models[best.title], image, predicted, contrast=true).attributions
            shares.append(half_evidence_share(attributions, image))
            tiles += [grey_rgb(image, 4), overlay_rgba(image, attributions, upscale=4)[:, :, :3]]
            captions += [f"#{index} true {true}", f"why {predicted}, not {true}"]
        saliency_figure = doc.figure(
            "saliency",
            tiles_png(tiles, captions, columns=4),
            f"{best.title}'s {len(hard_errors)} most confident errors, each beside its integrated-gradients map of "
            "'why the predicted digit rather than the true one' (red for, blue against; black baseline).",
        )
        median_share = float(np.median(shares))
        doc.add(
            f"On these errors, half of the evidence for the wrong digit lies on a median {median_share:.0%} of the "
            "digit's inked pixels (the most attributed ones first)"
            + (": the wrong answer rests on a few strokes, not on the whole digit." if median_share < 0.25 else "."),
            "",
        )
        insights.append(
            f"On {best.title}'s {len(hard_errors)} most confident errors, half of the evidence for the wrong digit "
            f"lies on a median {median_share:.0%} of the inked pixels ({saliency_figure})."
        )
    all_wrong = np.flatnonzero(np.all([r.evaluation.predictions != r.evaluation.labels for r in singles], axis=0))
    doc.add("## Hard examples", "")
    if len(all_wrong):
        shown = all_wrong[np.argsort(-best.evaluation.confidences[all_wrong], kind="stable")][:HARD_EXAMPLES]
        hard_figure = doc.figure(
            "hard_examples",
            tiles_png(
                [grey_rgb(data.x_test[i], 3) for i in shown],
                [
                    f"#{i}: {best.evaluation.labels[i]} as {best.evaluation.predictions[i]}"
                    + (" *" if int(i) in disputed else "")
                    for i in shown
                ],
                columns=8,
            ),
            f"Test images every single model gets wrong ({len(all_wrong)} in all; up to {HARD_EXAMPLES} shown, "
            f"captioned 'index: given label as {best.title}'s answer'; * label disputed by human raters).",
        )
        in_disputed = sum(int(i) in disputed for i in all_wrong)
        disputed_text = (
            f"; {in_disputed} of them are among the {len(disputed)} test labels human raters disputed"
            if disputed
            else ""
        )
        ensemble_text = ""
        if ensemble is not None:
            ensemble_wrong = int(
                np.sum(ensemble.evaluation.predictions[all_wrong] != ensemble.evaluation.labels[all_wrong])
            )
            ensemble_text = f", and the ensemble gets {ensemble_wrong} of them wrong too"
        insights.append(
            f"{len(all_wrong)} test images are wrong under all {len(singles)} single models{disputed_text}"
            f"{ensemble_text} ({hard_figure})."
        )
    else:
        doc.add("No test image is wrong under every model.", "")

    # ---- calibration
    doc.add("## Calibration", "")
    calibration_table = doc.table(
        "Expected calibration error and log-loss on the test set, before and after temperature scaling "
        "(T fitted on held-out validation images, never the test set).",
        ["family", "T", "ECE before", "ECE after", "log-loss before", "log-loss after", "mean confidence", "accuracy"],
        [
            [
                r.title,
                f"{r.temperature:.3f}",
                f"{r.calibration_before.ece:.2%}",
                f"{r.calibration_after.ece:.2%}",
                f"{r.calibration_before.nll:.4f}",
                f"{r.calibration_after.nll:.4f}",
                f"{r.calibration_before.mean_confidence:.2%}",
                f"{r.evaluation.accuracy:.2%}",
            ]
            for r in results
        ],
    )
    worst = max(results, key=lambda r: r.calibration_before.ece)
    insights.append(
        f"Every family is calibrated within {worst.calibration_before.ece:.2%} ECE before scaling (worst: "
        f"{worst.title}); temperature scaling takes {worst.title} to {worst.calibration_after.ece:.2%} "
        f"({calibration_table})."
    )

    # ---- comparisons that make insights
    mlp_result = next((r for r in singles if r.runs[0].config.arch == "mlp"), None)
    if mlp_result is not None and best is not mlp_result and best.evaluation.errors:
        insights.append(
            f"{best.title} makes {mlp_result.evaluation.errors / best.evaluation.errors:.1f}× fewer errors than the "
            f"seed MLP ({best.evaluation.errors} against {mlp_result.evaluation.errors}; {summary_table})."
        )
    timed = {}  # by architecture: the family's own recipe, not a tuned trial of the same architecture
    for r in singles:
        if training_seconds(r):
            timed.setdefault(r.runs[0].config.arch, r)
    if "cnn" in timed and "fast_cnn" in timed:
        cnn, fast = timed["cnn"], timed["fast_cnn"]
        insights.append(
            f"The fast recipe trains {training_seconds(cnn) / training_seconds(fast):.1f}× faster than the Keras "
            f"example CNN ({training_seconds(fast):.0f} s against {training_seconds(cnn):.0f} s) for "
            f"{(fast.evaluation.accuracy - cnn.evaluation.accuracy) * 100:+.2f} points of accuracy ({summary_table})."
        )
    if ensemble is not None:
        comparison = compare(
            [("ensemble", ensemble.evaluation), ("best single", best.evaluation)],
        )
        test = comparison.tests[0]
        verdict = "significant" if test.significant else "not significant"
        insights.append(
            f"The ensemble scores {ensemble.evaluation.accuracy:.2%} against {best.evaluation.accuracy:.2%} for "
            f"{best.title} alone: right on {test.test.first_only} images the best single model misses, wrong on "
            f"{test.test.second_only} it gets right (McNemar, {p_phrase(test.p_adjusted)}: {verdict}; {summary_table})."
        )

    doc.add("## Insights", "", *[f"- {insight}" for insight in insights], "")
    doc.add(
        "## Regenerating",
        "",
        "Train the families into one run store on full MNIST, then write this file and its figures again:",
        "",
        "```bash",
        "export MNIST_DIR=/path/to/mnist RUNS_DIR=runs",
        *[f".venv/bin/{family.command}" for family in FAMILIES],
        f".venv/bin/{command}",
        "```",
        "",
        "Each family is represented by its best run by validation accuracy; the best tuned trial is the best run "
        "tagged with a study. Missing families are listed at the top and left out of every table and claim.",
    )


# ---- numbers -------------------------------------------------------------------------------------------


def unordered_pairs(confusion: np.ndarray) -> list[tuple[int, int, int]]:
    """(a, b, errors between them in either direction), most first."""
    counts = np.asarray(confusion)
    both = counts + counts.T
    pairs = [(a, b, int(both[a, b])) for a in range(10) for b in range(a + 1, 10) if both[a, b] > 0]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))


def pair_share(confusion: np.ndarray, pairs: Sequence[tuple[int, int]]) -> int:
    counts = np.asarray(confusion)
    return int(sum(counts[a, b] + counts[b, a] for a, b in pairs))


def half_evidence_share(attributions: np.ndarray, image: np.ndarray) -> float:
    """The share of the inked pixels that, taken most attributed first, carry half the positive attribution."""
    positive = np.sort(np.maximum(attributions.ravel(), 0.0))[::-1]
    total = float(positive.sum())
    inked = max(1, int(np.sum(np.asarray(image) > INK)))
    if total <= 0:
        return 0.0
    needed = int(np.searchsorted(np.cumsum(positive), total / 2)) + 1
    return needed / inked


def training_seconds(result: FamilyResult) -> float | None:
    if any(run.record.upload is not None or not run.record.history for run in result.runs):
        return None
    return sum(run.record.training_seconds for run in result.runs)


def epochs(result: FamilyResult) -> int | None:
    if any(not run.record.history for run in result.runs):
        return None
    return sum(run.record.stopped_epoch for run in result.runs)


def fmt_optional(value, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ---- pictures ------------------------------------------------------------------------------------------

BACKGROUND = (255, 255, 255)
TEXT = (33, 37, 41)


def font(size: int = 12) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def grey_rgb(image: np.ndarray, scale: int) -> np.ndarray:
    """A uint8 digit as an RGB array, each pixel a scale×scale square."""
    pixels = np.asarray(image, dtype=np.uint8)
    return np.repeat(np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))[:, :, None], 3, axis=2)


def tiles_png(tiles: Sequence[np.ndarray], captions: Sequence[str], columns: int) -> Image.Image:
    """RGB tiles in a grid, each with a caption under it."""
    width, height = tiles[0].shape[1], tiles[0].shape[0]
    cell_w, cell_h, pad = max(width, 104), height + 18, 6
    rows = math.ceil(len(tiles) / columns)
    canvas = Image.new("RGB", (columns * (cell_w + pad) + pad, rows * (cell_h + pad) + pad), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for position, (tile, caption) in enumerate(zip(tiles, captions, strict=True)):
        row, column = divmod(position, columns)
        x, y = pad + column * (cell_w + pad), pad + row * (cell_h + pad)
        canvas.paste(Image.fromarray(np.asarray(tile, dtype=np.uint8)), (x + (cell_w - width) // 2, y))
        draw.text((x + cell_w // 2, y + height + 2), caption, fill=TEXT, font=font(11), anchor="ma")
    return canvas


def labelled_rows_png(rows: Sequence[Sequence[np.ndarray]], labels: Sequence[str], scale: int = 2) -> Image.Image:
    """One row of digits per label, the label on the left."""
    size, pad, label_w = 28 * scale, 4, 120
    columns = max((len(row) for row in rows), default=1)
    canvas = Image.new("RGB", (label_w + columns * (size + pad) + pad, len(rows) * (size + pad) + pad), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for r, (row, label) in enumerate(zip(rows, labels, strict=True)):
        y = pad + r * (size + pad)
        draw.text((pad, y + size // 2), label, fill=TEXT, font=font(13), anchor="lm")
        for c, image in enumerate(row):
            canvas.paste(Image.fromarray(grey_rgb(image, scale)), (label_w + c * (size + pad), y))
    return canvas


def confusion_png(confusion: np.ndarray, cell: int = 34) -> Image.Image:
    """Counts in a 10×10 grid: the diagonal light blue, errors from white to red by count."""
    counts = np.asarray(confusion)
    off = counts.copy()
    np.fill_diagonal(off, 0)
    top = max(1, int(off.max()))
    margin = 44
    canvas = Image.new("RGB", (margin + 10 * cell + 4, margin + 10 * cell + 4), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((margin + 5 * cell, 4), "predicted", fill=TEXT, font=font(12), anchor="ma")
    draw.text((4, margin + 5 * cell), "true", fill=TEXT, font=font(12), anchor="lm")
    for k in range(10):
        draw.text((margin + k * cell + cell // 2, 24), str(k), fill=TEXT, font=font(12), anchor="ma")
        draw.text((margin - 8, margin + k * cell + cell // 2), str(k), fill=TEXT, font=font(12), anchor="rm")
    for t in range(10):
        for p in range(10):
            value = int(counts[t, p])
            if t == p:
                colour = (208, 235, 255)
            else:
                strength = value / top
                colour = (255, round(255 - 206 * strength), round(255 - 206 * strength))
            box = (margin + p * cell, margin + t * cell, margin + (p + 1) * cell, margin + (t + 1) * cell)
            draw.rectangle(box, fill=colour, outline=(222, 226, 230))
            ink = (255, 255, 255) if t != p and value / top > 0.6 else TEXT
            label = str(value) if value else ""
            draw.text((box[0] + cell // 2, box[1] + cell // 2), label, fill=ink, font=font(10), anchor="mm")
    return canvas


def weights_png(weights: np.ndarray, columns: int = 8, scale: int = 2) -> Image.Image:
    """Each unit's weights as a 28×28 image, red positive, blue negative, each on its own scale."""
    tiles = []
    for unit in weights:
        strength = np.clip(unit / (np.abs(unit).max() or 1.0), -1.0, 1.0)
        rgb = np.empty((28, 28, 3))
        rgb[..., 0] = np.where(strength >= 0, 255, 255 * (1 + strength))
        rgb[..., 1] = 255 * (1 - np.abs(strength))
        rgb[..., 2] = np.where(strength <= 0, 255, 255 * (1 - strength))
        tiles.append(np.kron(rgb.round().astype(np.uint8), np.ones((scale, scale, 1), dtype=np.uint8)))
    size, pad = 28 * scale, 3
    rows = math.ceil(len(tiles) / columns)
    canvas = Image.new("RGB", (columns * (size + pad) + pad, rows * (size + pad) + pad), BACKGROUND)
    for position, tile in enumerate(tiles):
        row, column = divmod(position, columns)
        canvas.paste(Image.fromarray(tile), (pad + column * (size + pad), pad + row * (size + pad)))
    return canvas
