"""Test configuration: float64 available (float32 tests ask for it explicitly), and the
groups that `make test` distributes over its processes (pytest-xdist, `-n 2 --dist
loadgroup`): each module runs whole in one process, so that its module fixtures are
computed once, and the book tests (test_book.py, test_browser.py) share one process, so
that the book is executed and built once (the session fixtures of book_build.py)."""

import jax
import pytest

pytest_plugins = ["book_build"]  # the executed and built book, shared by the book tests

jax.config.update("jax_enable_x64", True)

BOOK_MODULES = {"test_book", "test_browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__ if item.module else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group("book" if module in BOOK_MODULES else module))
