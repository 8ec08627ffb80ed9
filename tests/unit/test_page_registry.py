"""The page registry: every page once, grouped so the navigation reads in the registry's order."""

from pathlib import Path

from dashboard.page_registry import ANALYSIS_PAGES, HOME, PAGES, SECTIONS

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"


def test_every_page_script_is_registered_once_with_a_heading_and_a_description():
    assert sorted(page.script for page in PAGES) == sorted(path.name for path in PAGES_DIR.glob("*.py"))
    assert len({page.title for page in PAGES}) == len(PAGES)
    for page in ANALYSIS_PAGES:
        assert page.heading and page.description and page.section, page.title


def test_sections_hold_every_page_in_registry_order_with_home_alone_first():
    assert SECTIONS[""] == (HOME,)
    assert list(SECTIONS)[0] == ""
    flattened = [page for pages in SECTIONS.values() for page in pages]
    assert flattened == list(PAGES)  # a section's pages are contiguous in PAGES
