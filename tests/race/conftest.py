"""The race and crash-point suites use the service-level fixtures over the session's Azurite."""

from tests.integration.conftest import scope, storage, tenant  # noqa: F401 - fixtures
