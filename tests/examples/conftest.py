from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.served import Served, creditflow_server


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with creditflow_server(tmp_path_factory.mktemp("served")) as server:
        yield server
