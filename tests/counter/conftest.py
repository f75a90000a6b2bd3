"""The signed-in browsers of tests/auth, for the counter terminal's tests."""

from tests.auth.conftest import new_browser  # noqa: F401  (a fixture, used by name)
