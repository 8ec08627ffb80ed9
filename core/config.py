"""The plain configuration of a training run, stored with every run."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from core.errors import ConfigError

# Settings that differ per architecture when the user does not give them.
ARCHITECTURE_DEFAULTS = {
    # The seed design (TensorFlow's beginner MLP).
    "mlp": {"hidden_units": (128,), "dropout": 0.2, "batch_size": 32, "learning_rate": 1e-3},
    # The Keras example convnet.
    "cnn": {
        "hidden_units": (),
        "filters": (32, 64),
        "dropout": 0.5,
        "batch_size": 128,
        "learning_rate": 1e-3,
    },
    # Speed recipe: small BatchNorm convnet, one-cycle schedule, one epoch. Chosen on the validation split,
    # seeds 0-4: batches of 256 or widths 16/32/64 reached 98.7-99.0 % in one epoch; 16/32/96 in batches of
    # 128 reached 98.95-99.13 % (validation), 99.00-99.17 % (test).
    "fast_cnn": {
        "hidden_units": (),
        "filters": (16, 32, 96),
        "dropout": 0.0,
        "batch_size": 128,
        "learning_rate": 5e-3,
        "schedule": "one_cycle",
        "epochs": 1,
        "precision": "auto",  # bfloat16 where the CPU has it natively: 1.22x the images/s here (core/precision.py)
    },
    # Accuracy recipe: a deeper BatchNorm convnet trained with augmentation.
    "deep_cnn": {
        "hidden_units": (),
        "filters": (32, 64, 128),
        "dropout": 0.4,
        "batch_size": 128,
        "learning_rate": 3e-3,
        "schedule": "one_cycle",
        "epochs": 20,
        "augment": True,
        "patience": 20,
    },
}
# Kernel-size recipe, for ensembles (after An et al. 2020, "An ensemble of simple convolutional neural network
# models for MNIST digit recognition"): valid convolutions of one kernel size, no pooling. Members of
# different kernel sizes see a digit through differently shaped receptive fields, so they err on different
# images. The widths are narrower than the paper's so an epoch costs about what deep_cnn's wide one does here.
# Dropout before the Dense layer: without it a 30-epoch 5×5 run overfitted (training accuracy 99.84 %, validation
# loss lowest at epoch 20 and rising after) and scored 99.47 %.
ARCHITECTURE_DEFAULTS["kernel_cnn"] = {
    **ARCHITECTURE_DEFAULTS["deep_cnn"],
    "filters": (32, 32, 48, 64, 96),
    "kernel_size": 5,
    "dropout": 0.3,
}
# The widths kernel_cnn stacks for each kernel size when none are given: each 28×28 digit shrinks
# by kernel_size - 1 per layer, to 8×8 (3 and 5) or 4×4 (7).
KERNEL_CNN_FILTERS = {3: (32, 32, 48, 48, 64, 64, 80, 80, 96, 96), 5: (32, 32, 48, 64, 96), 7: (16, 32, 64, 96)}
# Draw recipe: deep_cnn's network, also trained on handwriting renderings (core/augmentation.py) so it
# holds on people's drawings and photos: low resolution, thick or thin strokes, blur (docs/benchmarks.md).
ARCHITECTURE_DEFAULTS["draw_cnn"] = {**ARCHITECTURE_DEFAULTS["deep_cnn"], "epochs": 6}
# Recipes whose training batches also get the handwriting renderings.
HANDWRITING_AUGMENTED = ("draw_cnn",)
SCHEDULES = ("constant", "one_cycle", "exponential")
# The dtype policy training computes in; "auto" is bfloat16 where the CPU has it natively (core/precision.py).
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
# Activation functions of the hidden layers (Keras names). Softmax stays the output's.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "selu", "swish", "leaky_relu")
# What early stopping watches, and so which epoch's weights are kept: the lowest loss or the highest accuracy.
EARLY_STOPPING_MONITORS = ("val_loss", "val_accuracy")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run: architecture, hyperparameters, data split and seed."""

    arch: str = "mlp"
    hidden_units: tuple[int, ...] = (128,)
    filters: tuple[int, ...] = ()  # convolution widths of the convnets
    dropout: float = 0.2
    l2: float = 0.0
    learning_rate: float = 1e-3  # the peak rate under the one-cycle schedule, the first under the exponential one
    schedule: str = "constant"
    # The exponential schedule multiplies the rate by this after every epoch (An et al. 2020 use 0.98 over 150
    # epochs); the other schedules ignore it. Runs saved before this field load as 0.98 and ignore it too.
    learning_rate_decay: float = 0.98
    epochs: int = 5
    batch_size: int = 32
    validation_fraction: float = 0.1
    patience: int = 3
    early_stopping_monitor: str = "val_loss"
    # One name for every hidden layer, or one per hidden layer (see hidden_layer_count); runs saved
    # before this field load as relu, which is what they used.
    activation: tuple[str, ...] = ("relu",)
    augment: bool = False
    # How far augment moves each training digit: rotations up to ± this many degrees, shifts up to ± this
    # fraction of the size in each direction (zooms stay ±10 %). Runs saved before these fields load as 10° and
    # 0.1, which is what they used.
    augment_rotation: float = 10.0
    augment_shift: float = 0.1
    # Elastic distortions of every training image (core/augmentation.py), before augment's affine moves; runs
    # saved before this field load as False, which is what they used.
    elastic: bool = False
    # The decay of an exponential moving average of the weights that validation, early stopping and the saved
    # model use (core/weight_averaging.py); 0 is off: the raw weights, as runs saved before this field used.
    weight_averaging: float = 0.0
    # kernel_cnn's one kernel size (0 for the other architectures, whose kernels are fixed).
    kernel_size: int = 0
    # The dtype policy training computes in ("auto": bfloat16 where the CPU has it natively); runs saved before
    # this field load as float32, which is what they used. The saved model is float32 either way.
    precision: str = "float32"
    seed: int = 0
    name: str = ""
    train_limit: int | None = None  # use only the first N training images (quick runs, tests)
    tags: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.activation, str):  # TrainConfig(activation="tanh") means every hidden layer
            object.__setattr__(self, "activation", (self.activation,))
        else:
            object.__setattr__(self, "activation", tuple(self.activation))

    @classmethod
    def for_arch(cls, arch: str, **overrides) -> TrainConfig:
        """A config with the architecture's defaults, then `overrides` (None values ignored)."""
        if arch not in ARCHITECTURE_DEFAULTS:
            raise ConfigError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURE_DEFAULTS)}")
        given = {key: value for key, value in overrides.items() if value is not None}
        if arch == "kernel_cnn" and "kernel_size" in given and "filters" not in given:
            given["filters"] = KERNEL_CNN_FILTERS.get(given["kernel_size"], ARCHITECTURE_DEFAULTS[arch]["filters"])
        return cls(arch=arch, **{**ARCHITECTURE_DEFAULTS[arch], **given}).validated()

    def validated(self) -> TrainConfig:
        """Return self, or raise ConfigError naming the first setting out of range."""
        finite = math.isfinite
        checks = [
            (self.arch in ARCHITECTURE_DEFAULTS, f"unknown architecture {self.arch!r}"),
            (all(units > 0 for units in self.hidden_units), "hidden units must be positive"),
            (all(width > 0 for width in self.filters), "filters must be positive"),
            (self.schedule in SCHEDULES, f"unknown schedule {self.schedule!r}"),
            (self.precision in PRECISIONS, f"precision is one of {', '.join(PRECISIONS)}, not {self.precision!r}"),
            # `--learning-rate inf` parses, and inf passes "> 0": every float setting must be finite first.
            (finite(self.dropout) and 0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (finite(self.l2) and self.l2 >= 0.0, "L2 must be a finite number >= 0"),
            (finite(self.learning_rate) and self.learning_rate > 0.0, "learning rate must be a finite number > 0"),
            (
                finite(self.learning_rate_decay) and 0.0 < self.learning_rate_decay <= 1.0,
                "the learning rate's decay per epoch must be in (0, 1]",
            ),
            (
                finite(self.augment_rotation) and 0.0 <= self.augment_rotation <= 180.0,
                "augmentation's rotation must be in [0, 180] degrees",
            ),
            (finite(self.augment_shift) and 0.0 <= self.augment_shift < 1.0, "augmentation's shift must be in [0, 1)"),
            (
                finite(self.weight_averaging) and 0.0 <= self.weight_averaging < 1.0,
                "weight averaging's decay must be in [0, 1)",
            ),
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 1, "batch size must be >= 1"),
            (
                finite(self.validation_fraction) and 0.0 < self.validation_fraction < 1.0,
                "validation fraction must be in (0, 1)",
            ),
            (self.patience >= 0, "patience must be >= 0"),
            (
                self.early_stopping_monitor in EARLY_STOPPING_MONITORS,
                f"early stopping monitors {' or '.join(EARLY_STOPPING_MONITORS)}, not {self.early_stopping_monitor!r}",
            ),
            (
                bool(self.activation) and all(name in ACTIVATIONS for name in self.activation),
                f"unknown activation in {', '.join(self.activation) or 'nothing'}; "
                f"choose from {', '.join(ACTIVATIONS)}",
            ),
            (
                len(self.activation) in (1, self.hidden_layer_count),
                f"give one activation, or one per hidden layer ({self.hidden_layer_count} for this {self.arch}), "
                f"not {len(self.activation)}",
            ),
            (self.arch != "kernel_cnn" or self.kernel_size >= 2, "kernel_cnn's kernel size must be >= 2"),
            (
                self.arch != "kernel_cnn" or len(self.filters) * (self.kernel_size - 1) < 28,
                f"{len(self.filters)} valid convolutions of size {self.kernel_size} do not fit a 28×28 digit",
            ),
            (self.train_limit is None or self.train_limit >= 20, "train limit must be >= 20"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        return self

    @property
    def hidden_layer_count(self) -> int:
        """How many hidden layers take an activation: the MLP's Dense layers, a convnet's convolutions (then Dense)."""
        if self.arch == "mlp":
            return len(self.hidden_units)
        widths = self.filters or ARCHITECTURE_DEFAULTS.get(self.arch, {}).get("filters", ())
        if self.arch in ("deep_cnn", "draw_cnn"):  # three convolutions per block, then the head's one
            return 3 * (len(widths) - 1) + 1
        if self.arch == "fast_cnn":  # one per convolution block; it has no Dense hidden layers
            return len(widths)
        return len(widths) + len(self.hidden_units)

    def activations(self) -> tuple[str, ...]:
        """The activation of each hidden layer, in order (a single name repeated)."""
        if len(self.activation) == 1:
            return self.activation * self.hidden_layer_count
        return self.activation

    def with_changes(self, **changes) -> TrainConfig:
        return replace(self, **changes).validated()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["hidden_units"] = list(self.hidden_units)
        data["filters"] = list(self.filters)
        data["activation"] = list(self.activation)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Rebuild a config from run.json, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("hidden_units", "filters"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


# The Home page's one-click model: the seed MLP for three epochs.
QUICK_MODEL = TrainConfig.for_arch("mlp", epochs=3, name="quick mlp")
