"""The deploy tests' render of the vendored chart: helm runs once per test session."""

import pytest

from tests.deploy import helm_chart


@pytest.fixture(scope="session")
def chart() -> helm_chart.Render:
    return helm_chart.render()
