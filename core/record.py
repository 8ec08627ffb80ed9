"""The record of a saved run (its run.json) as typed, frozen values rather than a raw dict.

Versions of run.json: 1 has no `schema_version` key (runs saved before this module); 2 adds that
key and nothing else; 3 adds `upload`, only in the record of a model trained elsewhere and kept as a
run (core/uploads.py); 4 adds `annotations` (a user's name, tags and note), only once a user set one;
5 adds `calibration`, the temperature fitted on the run's validation split at the end of training
(core/experiment.py). `from_dict` reads them all, gives missing keys a default (None where a value is
unknown) and ignores keys it does not know, so runs saved by older and newer versions still load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from core.config import TrainConfig

SCHEMA_VERSION = 5
FIRST_SCHEMA_VERSION = 1  # a record without the key


@dataclass(frozen=True)
class DataSummary:
    """Where the run's data came from and how many images each split had."""

    source: str = ""
    description: str = ""
    train: int | None = None  # training images available
    test: int | None = None
    train_used: int | None = None  # after the train limit, minus the validation split
    validation: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> DataSummary:
        return cls(**_known_fields(cls, data))


@dataclass(frozen=True)
class TestMetrics:
    """The run's scores on the test set; every value is None for a run never evaluated."""

    __test__ = False  # not a pytest test class, whatever its name

    accuracy: float | None = None
    macro_f1: float | None = None
    weighted_f1: float | None = None
    errors: int | None = None
    count: int | None = None
    per_class: dict = field(default_factory=dict)  # digit or average -> precision, recall, f1-score, support
    confusion: tuple[tuple[int, ...], ...] = ()  # row = true digit, column = predicted digit

    @classmethod
    def from_dict(cls, data: dict) -> TestMetrics:
        values = _known_fields(cls, data)
        values["confusion"] = tuple(tuple(row) for row in values.get("confusion", ()))
        return cls(**values)


@dataclass(frozen=True)
class UploadSummary:
    """A model uploaded rather than trained here: its file, and how core.adapters adapted it."""

    file_name: str = ""
    input_layout: tuple[int, ...] = (28, 28)  # the input shape it was trained on
    outputs_logits: bool = False  # a softmax was added after its last layer
    pixel_scale: float = 1.0  # it is fed pixels in [0, pixel_scale]

    @property
    def was_adapted(self) -> bool:
        """Whether it is saved inside an adapter (a model already in the app's convention is not)."""
        return self.input_layout != (28, 28) or self.outputs_logits or self.pixel_scale != 1.0

    @classmethod
    def from_dict(cls, data: dict) -> UploadSummary:
        values = _known_fields(cls, data)
        if "input_layout" in values:
            values["input_layout"] = tuple(values["input_layout"])
        return cls(**values)


@dataclass(frozen=True)
class Annotations:
    """What a user wrote about a run after it was saved: a display name, tags and a note.

    The run id (its folder) never changes, so links and sessions that hold the run keep working
    when it is renamed: the name is shown beside the id.
    """

    name: str = ""
    tags: tuple[str, ...] = ()
    note: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.tags or self.note)

    @classmethod
    def from_dict(cls, data: dict) -> Annotations:
        values = _known_fields(cls, data)
        if "tags" in values:
            values["tags"] = tuple(str(tag) for tag in values["tags"])
        return cls(**values)


@dataclass(frozen=True)
class TemperatureScaling:
    """A temperature T fitted by minimising the log-loss on held-out images (core.analysis.calibration).

    The calibrated probabilities are softmax(log p / T): T > 1 softens over-confident ones, T < 1
    sharpens under-confident ones; the predicted digit never changes.
    """

    temperature: float = 1.0
    images: int = 0  # how many images it was fitted on
    nll_before: float | None = None  # mean log-loss on those images at T = 1
    nll_after: float | None = None  # ... and at the fitted T

    @classmethod
    def from_dict(cls, data: dict) -> TemperatureScaling:
        return cls(**_known_fields(cls, data))


@dataclass(frozen=True)
class RunRecord:
    """Everything a run records about itself: configuration, data, training, test scores, versions."""

    config: TrainConfig
    data: DataSummary = field(default_factory=DataSummary)
    history: tuple[dict, ...] = ()  # one row of metrics per epoch run
    best_epoch: int = 0  # 1-based epoch whose weights were kept; 0 when unknown
    stopped_epoch: int = 0  # last epoch that ran
    early_stopped: bool = False
    training_seconds: float = 0.0
    training_precision: str = "float32"  # the dtype policy training computed in (config "auto" resolved)
    test_metrics: TestMetrics = field(default_factory=TestMetrics)
    parameters: int | None = None
    versions: dict = field(default_factory=dict)  # library name -> version
    created: str = ""  # ISO 8601, set by the run store when saving
    run_id: str = ""  # set by the run store when saving
    seed: int = 0  # the config's seed, also kept at the top level as in version 1
    schema_version: int = SCHEMA_VERSION  # of the file it was read from; new records are the current version
    upload: UploadSummary | None = None  # set for a model trained elsewhere and kept as a run
    annotations: Annotations = field(default_factory=Annotations)  # editable after saving (RunStore.annotate)
    calibration: TemperatureScaling | None = None  # fitted on the validation split; None for older runs, uploads

    @property
    def is_uploaded(self) -> bool:
        return self.upload is not None

    @property
    def validation_accuracy(self) -> float | None:
        """Validation accuracy at the epoch whose weights were kept (None for runs without history)."""
        if not self.history or self.best_epoch < 1 or self.best_epoch > len(self.history):
            return None
        return self.history[self.best_epoch - 1].get("val_accuracy")

    def to_dict(self) -> dict:
        """The JSON-ready contents of run.json (no `upload` key for a trained run, no `calibration` when unknown)."""
        data = {**asdict(self), "config": self.config.to_dict(), "history": list(self.history)}
        if self.calibration is None:
            del data["calibration"]
        if self.upload is None:
            del data["upload"]
        else:
            data["upload"]["input_layout"] = list(self.upload.input_layout)
        if self.annotations.is_empty:
            del data["annotations"]
        else:
            data["annotations"]["tags"] = list(self.annotations.tags)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunRecord:
        """Read a run.json of any version (see the module docstring)."""
        values = _known_fields(cls, data)
        config = TrainConfig.from_dict(values.get("config", {}))
        values.update(
            config=config,
            data=DataSummary.from_dict(values.get("data", {})),
            history=tuple(values.get("history", ())),
            test_metrics=TestMetrics.from_dict(values.get("test_metrics", {})),
            seed=values.get("seed", config.seed),
            schema_version=values.get("schema_version", FIRST_SCHEMA_VERSION),
            upload=UploadSummary.from_dict(values["upload"]) if isinstance(values.get("upload"), dict) else None,
            annotations=Annotations.from_dict(values["annotations"])
            if isinstance(values.get("annotations"), dict)
            else Annotations(),
            calibration=(
                TemperatureScaling.from_dict(values["calibration"])
                if isinstance(values.get("calibration"), dict)
                else None
            ),
        )
        return cls(**values)


def _known_fields(cls: type, data: dict) -> dict:
    """The entries of `data` that name a field of the dataclass `cls`."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}
