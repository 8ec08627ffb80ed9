"""Saved runs: one folder per run holding model.keras and run.json, written atomically."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import TrainConfig
from core.errors import ModelFileError, RunStoreError
from core.record import SCHEMA_VERSION, Annotations, RunRecord

if TYPE_CHECKING:  # listing and reading runs needs no TensorFlow: it is imported when a model is loaded
    import keras

MODEL_FILE = "model.keras"
RECORD_FILE = "run.json"
REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_NAME_LENGTH = 40
STAGING_PREFIX = ".saving-"
DEFAULT_RUN_FILE = ".default-run"  # the pinned run's id; a dot file, so listings skip it
STALE_STAGING_SECONDS = 3600  # a save never takes this long: older staging folders are crash debris
LOCK_FILE = ".lock"  # held while a run's record is rewritten or a run deleted (fcntl.flock)
REVISION_FILE = ".revision"  # replaced after each edit of a record, so the store folder's mtime moves
MAX_DISPLAY_NAME = 60
MAX_TAG_LENGTH = 24
MAX_TAGS = 12
MAX_NOTE = 2000


def default_store_path() -> Path:
    """RUNS_DIR when set, else runs/ at the repository root."""
    return Path(os.environ.get("RUNS_DIR") or REPO_ROOT / "runs").expanduser()


@dataclass(frozen=True)
class RunInfo:
    """A saved run as listed: its id, folder and record (run.json contents)."""

    run_id: str
    path: Path
    record: RunRecord

    @property
    def config(self) -> TrainConfig:
        return self.record.config

    @property
    def test_accuracy(self) -> float | None:
        return self.record.test_metrics.accuracy

    @property
    def study(self) -> str | None:
        """The hyperparameter study this run is a trial of (core.tuning tags its runs), if any."""
        return self.config.tags.get("study")

    @property
    def annotations(self) -> Annotations:
        return self.record.annotations

    @property
    def label(self) -> str:
        """A one-line description for pickers: id, the user's name for it if any, architecture, accuracy."""
        accuracy = self.test_accuracy
        score = f"{accuracy:.2%}" if accuracy is not None else "n/a"
        name = f" “{self.annotations.name}”" if self.annotations.name else ""
        return f"{self.run_id}{name} · {self.config.arch} · {score}"


@dataclass(frozen=True)
class DamagedRun:
    """A folder in the store that is not a usable run, and why."""

    run_id: str
    path: Path
    reason: str


class RunStore:
    """A folder of runs. Saving never overwrites and never leaves half a run behind."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else default_store_path()

    # ---- writing ---------------------------------------------------------------------------

    def save(self, model: keras.Model, record: RunRecord, name: str = "") -> RunInfo:
        """Save a model and its record as a new run; returns it. The id derives from `name`."""
        run, _ = self._save(model, record, name, unique_tags=None)
        return run

    def save_once(self, model: keras.Model, record: RunRecord, name: str, unique_tags: dict) -> tuple[RunInfo, bool]:
        """Save unless a run whose configuration's tags include all of `unique_tags` exists: (the run, saved?).

        The check and the rename that publishes the run happen under the store's lock, so two
        processes saving the same key (a hyperparameter trial and its retry) leave one run.
        """
        return self._save(model, record, name, unique_tags=unique_tags)

    def find_tagged(self, tags: dict) -> RunInfo | None:
        """The newest run whose configuration's tags include all of `tags`, if any."""
        runs, _ = self.list_runs()
        return next((run for run in runs if _has_tags(run, tags)), None)

    def _save(self, model: keras.Model, record: RunRecord, name: str, unique_tags: dict | None) -> tuple[RunInfo, bool]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._remove_stale_staging()
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        except OSError as error:
            raise RunStoreError(f"cannot write to the run store {self.root}: {error}") from error
        try:
            created = datetime.now(UTC)
            record = replace(record, created=created.isoformat(timespec="seconds"))
            model.save(staging / MODEL_FILE)
            if unique_tags is None:
                return self._publish(staging, record, base_id=make_run_id(name, created)), True
            with self._locked():
                existing = self.find_tagged(unique_tags)
                if existing is not None:
                    return existing, False
                return self._publish(staging, record, base_id=make_run_id(name, created)), True
        except OSError as error:
            raise RunStoreError(f"cannot save the run in {self.root}: {error}") from error
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _publish(self, staging: Path, record: RunRecord, base_id: str) -> RunInfo:
        """Rename the staging folder to a free run id; a rename never replaces a full folder."""
        for attempt in range(1000):
            run_id = base_id if attempt == 0 else f"{base_id}-{attempt + 1}"
            target = self.root / run_id
            if target.exists():
                continue
            record = replace(record, run_id=run_id)
            _write_json(staging / RECORD_FILE, record.to_dict())
            try:
                os.rename(staging, target)
            except OSError:  # another process took this id between the check and the rename
                continue
            return RunInfo(run_id, target, record)
        raise RunStoreError(f"no free run id for {base_id!r}")

    def _remove_stale_staging(self) -> None:
        """Remove staging folders left by a process killed while saving."""
        cutoff = time.time() - STALE_STAGING_SECONDS
        for path in self.root.glob(f"{STAGING_PREFIX}*"):
            try:
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue

    def delete(self, run_id: str) -> None:
        """Remove a run. A session that already loaded its model keeps it in memory (dashboard/state.py)."""
        path = self._path_of(run_id)
        with self._locked():
            if not path.is_dir():
                raise RunStoreError(f"no run {run_id!r} in {self.root}")
            trash = self.root / f".deleting-{run_id}-{time.time_ns()}"
            os.rename(path, trash)  # disappears from listings at once, then is removed
        shutil.rmtree(trash, ignore_errors=True)

    def annotate(
        self, run_id: str, name: str | None = None, tags: list[str] | None = None, note: str | None = None
    ) -> RunInfo:
        """Set a run's display name, tags or note (None leaves a field as it is); returns the run as saved.

        Read-modify-write of run.json under the store's lock, so two sessions editing the same run
        at once each keep the other's fields; the new file replaces the old in one rename, so a
        reader sees the old record or the new, never half of one. Keys this version does not know are kept.
        """
        path = self._path_of(run_id)
        with self._locked():
            if not path.is_dir():
                raise RunStoreError(f"no run {run_id!r} in {self.root}")
            record_path = path / RECORD_FILE
            try:
                raw = json.loads(record_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise RunStoreError(f"{run_id}: {RECORD_FILE} is unreadable ({error})") from error
            current = raw.get("annotations") if isinstance(raw.get("annotations"), dict) else {}
            updated = {**current}
            if name is not None:
                updated["name"] = clean_display_name(name)
            if tags is not None:
                updated["tags"] = list(clean_tags(tags))
            if note is not None:
                updated["note"] = note.strip()[:MAX_NOTE]
            raw["annotations"] = updated
            raw["schema_version"] = max(int(raw.get("schema_version", 1)), SCHEMA_VERSION)
            _replace_file(record_path, json.dumps(raw, indent=2, sort_keys=True))
            _replace_file(self.root / REVISION_FILE, str(time.time_ns()))  # moves the store's mtime: listings reread
            # Read back under the lock: a deletion waits for it, rather than moving the folder away mid-read.
            return self.get(run_id)

    def model_bytes(self, run_id: str) -> bytes:
        """The run's model.keras as it is on disk, for a download."""
        try:
            return (self._path_of(run_id) / MODEL_FILE).read_bytes()
        except OSError as error:
            raise RunStoreError(f"no model for run {run_id!r} ({error.strerror})") from error

    @contextlib.contextmanager
    def _locked(self):
        """The store's write lock (fcntl.flock): one edit or deletion at a time, across processes and threads."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.root / LOCK_FILE, "a+b")  # noqa: SIM115 (held for the block below)
        except OSError as error:
            raise RunStoreError(f"cannot write to the run store {self.root}: {error}") from error
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def pin_default(self, run_id: str | None) -> None:
        """Make `run_id` the run every new visitor of the dashboard starts with (None unpins)."""
        path = self.root / DEFAULT_RUN_FILE
        if run_id is None:
            path.unlink(missing_ok=True)
            return
        self.get(run_id)  # raises for an unknown run
        temporary = self.root / f"{DEFAULT_RUN_FILE}.{os.getpid()}.tmp"
        temporary.write_text(run_id, encoding="utf-8")
        os.replace(temporary, path)  # atomic: a reader sees the old or the new id

    # ---- reading ---------------------------------------------------------------------------

    def pinned_default(self) -> str | None:
        """The pinned run's id, or None when none is pinned (or the pinned run is gone)."""
        try:
            run_id = (self.root / DEFAULT_RUN_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return run_id if is_safe_run_id(run_id) and (self.root / run_id).is_dir() else None

    def list_runs(self) -> tuple[list[RunInfo], list[DamagedRun]]:
        """Complete runs, newest first, and the damaged folders that were skipped."""
        if not self.root.is_dir():
            return [], []
        runs, damaged = [], []
        for path in self.root.iterdir():
            if not path.is_dir() or path.name.startswith("."):
                continue
            try:
                runs.append(self._read(path))
            except RunStoreError as error:
                damaged.append(DamagedRun(path.name, path, str(error)))
        runs.sort(key=lambda run: (run.record.created, run.run_id), reverse=True)
        return runs, damaged

    def get(self, run_id: str) -> RunInfo:
        path = self._path_of(run_id)
        if not path.is_dir():
            raise RunStoreError(f"no run {run_id!r} in {self.root}")
        return self._read(path)

    def load_model(self, run_id: str) -> keras.Model:
        """Load a run's model (safe mode: no arbitrary code from the file), checked to follow the app's convention."""
        model = load_model_file(self._path_of(run_id) / MODEL_FILE)
        check_digit_model(model, run_id)
        return model

    def _path_of(self, run_id: str) -> Path:
        if not is_safe_run_id(run_id):
            raise RunStoreError(f"{run_id!r} is not a valid run id")
        return self.root / run_id

    def _read(self, path: Path) -> RunInfo:
        record_path, model_path = path / RECORD_FILE, path / MODEL_FILE
        if not record_path.is_file():
            raise RunStoreError(f"{path.name}: {RECORD_FILE} is missing")
        if not model_path.is_file() or model_path.stat().st_size == 0:
            raise RunStoreError(f"{path.name}: {MODEL_FILE} is missing or empty")
        try:
            raw = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RunStoreError(f"{path.name}: {RECORD_FILE} is unreadable ({error})") from error
        if not isinstance(raw, dict) or not isinstance(raw.get("config"), dict):
            raise RunStoreError(f"{path.name}: {RECORD_FILE} has no run configuration")
        try:
            record = RunRecord.from_dict(raw)
        except (TypeError, ValueError, AttributeError) as error:  # a value of the wrong kind in the file
            raise RunStoreError(f"{path.name}: {RECORD_FILE} is malformed ({error})") from error
        return RunInfo(path.name, path, record)


def _has_tags(run: RunInfo, tags: dict) -> bool:
    return all(run.config.tags.get(key) == value for key, value in tags.items())


def load_model_file(path: str | os.PathLike, display_name: str | None = None) -> keras.Model:
    """Load a .keras file with safe_mode on; any failure becomes a ModelFileError.

    Only the Keras 3 archive format is accepted: legacy .h5 files and SavedModels can carry code
    that safe_mode does not police. Messages name the file as `display_name` when given. The model's
    shapes are not checked here: a model from elsewhere goes through `core.adapters.adapt_model`.
    """
    import keras

    from core import adapter_layers  # noqa: F401  (registers the layers a kept upload is saved with)

    name = display_name or Path(path).name
    if not _is_keras_archive(path):
        raise ModelFileError(
            f"{name} is not a Keras archive (.keras); legacy .h5 files and other formats "
            "are refused because they can carry code"
        )
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types for a bad archive.
        raise ModelFileError(f"{name} cannot be loaded as a Keras model: {error}") from error
    return model


def check_digit_model(model: keras.Model, name: str = "the model") -> None:
    """Refuse models that do not take 28×28 images and return 10 class probabilities (the app's convention)."""
    try:
        input_shape, output_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError) as error:
        raise ModelFileError(f"{name}: the model has no single input and output ({error})") from error
    if input_shape[1:] != (28, 28):
        raise ModelFileError(f"{name}: expects input of shape {input_shape[1:]}, not 28×28 images")
    if output_shape[1:] != (10,):
        raise ModelFileError(f"{name}: outputs shape {output_shape[1:]}, not 10 class probabilities")


def _is_keras_archive(path: str | os.PathLike) -> bool:
    """A .keras file is a zip archive holding config.json."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def make_run_id(name: str, created: datetime) -> str:
    """A safe folder name: timestamp, then the user's name reduced to [a-z0-9-]."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_NAME_LENGTH].strip("-")
    stamp = created.strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{slug}" if slug else stamp


def clean_display_name(name: str) -> str:
    """A display name on one line, without surrounding spaces, at most MAX_DISPLAY_NAME characters."""
    return " ".join(name.split())[:MAX_DISPLAY_NAME]


def clean_tags(tags: list[str]) -> tuple[str, ...]:
    """Tags as typed, trimmed, without commas or duplicates (case-insensitive), at most MAX_TAGS."""
    cleaned: list[str] = []
    for tag in tags:
        for part in str(tag).split(","):
            tag_text = " ".join(part.split())[:MAX_TAG_LENGTH]
            if tag_text and tag_text.lower() not in {t.lower() for t in cleaned}:
                cleaned.append(tag_text)
    return tuple(cleaned[:MAX_TAGS])


def is_safe_run_id(run_id: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", run_id)) and ".." not in run_id


def _replace_file(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path` (atomic on POSIX)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{time.time_ns()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise RunStoreError(f"cannot write {path.name}: {error}") from error


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
