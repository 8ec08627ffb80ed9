"""Where things are in the repository, for tests that read its files or run commands from its root."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO_ROOT / "notebooks" / "walkthrough.ipynb"
