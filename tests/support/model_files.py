"""Model files as the dashboard loads them: a freshly built model of an architecture, saved as .keras."""

from core.config import TrainConfig
from core.models import build_model


def saved_model(tmp_path, arch: str, **overrides) -> str:
    """A freshly built (untrained) model of `arch`, saved and loaded back as the dashboard does."""
    path = tmp_path / f"{arch}.keras"
    build_model(TrainConfig.for_arch(arch, **overrides)).save(path)
    return str(path)
