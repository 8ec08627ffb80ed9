"""The accuracy section's single-model figure is a recipe's mean over seeds, the recipe chosen on validation data."""

from types import SimpleNamespace

from benchmarks.accuracy import EnsembleScore, ScoredRun, best_recipe, recipe, section_lines
from benchmarks.goals import goal_lines
from core.config import TrainConfig


def scored(
    seed: int, validation: float, test: float, rotated: float | None = None, arch: str = "deep_cnn", **changes
) -> ScoredRun:
    config = TrainConfig.for_arch(arch, seed=seed, **changes)
    record = SimpleNamespace(validation_accuracy=validation, training_precision="float32", training_seconds=60.0)
    run = SimpleNamespace(run_id=f"run-{seed}", config=config, record=record)
    return ScoredRun(run, test, round((1 - test) * 10_000), rotated)


def test_runs_differing_only_by_seed_share_a_recipe():
    assert recipe(scored(0, 0.99, 0.99).run) == recipe(scored(1, 0.99, 0.99).run)
    assert recipe(scored(0, 0.99, 0.99).run) != recipe(scored(0, 0.99, 0.99, dropout=0.3).run)


def test_kernel_cnns_of_different_kernel_sizes_are_different_recipes():
    five, seven = (scored(0, 0.99, 0.99, arch="kernel_cnn", kernel_size=size, filters=(8, 8)).run for size in (5, 7))
    assert "kernel 5×5" in recipe(five) and "kernel 7×7" in recipe(seven)
    assert "kernel" not in recipe(scored(0, 0.99, 0.99).run)


def test_the_recipe_is_chosen_by_validation_accuracy_not_by_test_accuracy():
    steady = [scored(seed, 0.997, 0.995) for seed in range(3)]
    lucky_on_test = [scored(seed, 0.995, 0.998, activation="gelu") for seed in range(3, 6)]
    name, runs = best_recipe(steady + lucky_on_test)
    assert runs == steady and "gelu" not in name


def test_a_recipe_needs_three_seeds_for_a_mean():
    runs = [scored(0, 0.999, 0.999, dropout=0.3), scored(1, 0.999, 0.999, dropout=0.3)]
    assert best_recipe(runs) is None
    lines = section_lines(runs, EnsembleScore(0.999), "a host")
    assert not any(line.startswith("**Single model") for line in lines)
    assert any(line.startswith("**Ensemble of all 2 runs: 99.90%**") for line in lines)


def test_the_mean_is_over_the_chosen_recipes_runs_only():
    runs = [scored(seed, 0.997, 0.996) for seed in range(3)] + [scored(9, 0.990, 0.980, dropout=0.1)]
    single = next(
        line for line in section_lines(runs, EnsembleScore(0.997), "a host") if line.startswith("**Single model")
    )
    assert single.startswith("**Single model, mean over 3 runs: 99.60%**")


def test_rotations_are_reported_beside_the_plain_figures_which_the_goals_read():
    runs = [scored(seed, 0.997, 0.996, rotated=0.9965 + seed / 10_000) for seed in range(3)]
    lines = section_lines(runs, EnsembleScore(0.9972, rotated_accuracy=0.9976), "a host")
    assert lines[-1] == "With rotations: that recipe's mean 99.66%, the ensemble 99.76% (24 errors)"
    assert any(line.endswith("| 99.60% | 40 | 99.65% |") for line in lines)
    goals = "\n".join(goal_lines("\n".join(lines)))
    assert "99.60 % (mean of 3)" in goals and "99.72 % (3 runs)" in goals
