"""The recipes behind section 14 rebuild its runs: the documented ones, each trained once into a store."""

import dataclasses
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks.accuracy import SECTION_HEADING, recipe
from benchmarks.ensemble_runs import (
    ENSEMBLE_RECIPES,
    backup_dir_of,
    main,
    recipe_config,
    recipe_status,
    runs_by_recipe,
    train_missing,
)
from core.checkpoints import STATE_FILE
from core.runs import RunStore
from core.training import train
from tests.support.training_stops import StopAtEpoch, Stopped

REPORT = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
SECTION_ROW = re.compile(r"^\| `\d{8}-\d{6}-(?P<name>[^`]+)` \| (?P<recipe>[^|]+) \| (?P<seed>\d+) \|")


def section_14_rows() -> list[dict]:
    section = REPORT.read_text().split(SECTION_HEADING, 1)[1].split("\n## ", 1)[0]
    return [match.groupdict() for line in section.splitlines() if (match := SECTION_ROW.match(line))]


def shrunk(config):
    """The same recipe on a few hundred images for one epoch."""
    return dataclasses.replace(config, epochs=1, train_limit=300)


def test_every_run_of_section_14_has_its_recipe_and_no_other():
    rows = section_14_rows()
    assert sorted(row["name"] for row in rows) == sorted(ENSEMBLE_RECIPES)
    for row in rows:
        config = recipe_config(row["name"])
        assert recipe(SimpleNamespace(config=config)) == row["recipe"].strip()
        assert config.seed == int(row["seed"])


def test_elastic_runs_form_a_recipe_of_their_own_in_the_accuracy_table():
    plain = recipe_config("item2-wide-30ep-s10")
    elastic = dataclasses.replace(plain, elastic=True)
    assert recipe(SimpleNamespace(config=plain)) == "deep_cnn, 30 epochs, widths 48/96/160, dropout 0.4"
    assert recipe(SimpleNamespace(config=elastic)) == f"{recipe(SimpleNamespace(config=plain))}, elastic distortions"


def test_the_recipes_train_in_bfloat16_where_the_cpu_has_it():
    assert {recipe_config(name).precision for name in ENSEMBLE_RECIPES} == {"auto"}


def test_missing_runs_are_trained_once(tmp_path, small_data):
    store = RunStore(tmp_path)
    names = ["item2-wide-20ep-s6", "item2-k7-30ep-s21"]
    first = train_missing(store, small_data, names, adjust=shrunk)
    assert len(first) == 2
    assert train_missing(store, small_data, names, adjust=shrunk) == []
    found = runs_by_recipe(store)
    assert set(found) == set(names)
    wide, seven = (store.get(found[name]).config for name in names)
    assert (wide.filters, wide.seed) == ((48, 96, 160), 6)
    assert (seven.kernel_size, seven.seed) == (7, 21)


def test_ids_lists_the_recipes_runs_for_the_accuracy_benchmark(tmp_path, small_data, capsys):
    store = RunStore(tmp_path)
    (run_id,) = train_missing(store, small_data, ["item2-relu-20ep-s4"], adjust=shrunk)
    capsys.readouterr()
    assert main(["--runs-dir", str(tmp_path), "--ids"]) == 0
    assert capsys.readouterr().out.split() == [run_id]
    assert main(["--runs-dir", str(tmp_path), "--status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(ENSEMBLE_RECIPES)
    assert f"item2-relu-20ep-s4: saved as {run_id}, test accuracy " in lines[4]
    assert lines[0] == "item2-bf16-30ep-s0: not started"


def test_a_recipe_stopped_part_way_resumes_and_its_backup_goes(tmp_path, small_data, capsys):
    store = RunStore(tmp_path)
    name = "item2-relu-20ep-s4"

    def two_epochs(config):
        return dataclasses.replace(config, epochs=2, train_limit=300)

    backup_dir = backup_dir_of(store, name)
    with pytest.raises(Stopped):
        train(two_epochs(recipe_config(name)), small_data, extra_callbacks=[StopAtEpoch(2)], backup_dir=backup_dir)
    first_epoch = json.loads((backup_dir / STATE_FILE).read_text())["history"][0]
    assert runs_by_recipe(store) == {}  # the unfinished run is not in the store's list
    assert recipe_status(store)[name] == "unfinished: 1 of 20 epochs done"
    (run_id,) = train_missing(store, small_data, [name], adjust=two_epochs)
    assert f"{name}: resuming" in capsys.readouterr().out
    assert recipe_status(store)[name].startswith(f"saved as {run_id}, test accuracy ")
    assert store.get(run_id).record.history[0] == first_epoch  # the stopped attempt's epoch, not a new one
    assert not backup_dir.exists()
