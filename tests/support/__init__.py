"""Helpers shared by the test tiers (unit, app, process, browser, full_mnist), one module per concern.

Test modules import helpers only from here, never from one another.
"""
