"""End-to-end tests: the dashboard in a real Chromium, driven by Playwright (marker `browser`)."""
