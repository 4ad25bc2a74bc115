"""The run directory's contract and the server import strings name real things."""

from __future__ import annotations

import importlib

import pytest

from lagscope import rundir, servers
from lagscope.request_schema import SCHEMA


def test_the_request_schema_has_the_contract_columns_in_order() -> None:
    assert tuple(SCHEMA.names) == rundir.REQUEST_COLUMNS


@pytest.mark.parametrize(
    "target",
    [
        servers.PROBE_FACTORY,
        servers.DOWNSTREAM_APP,
        servers.SHOP_APP,
        *(
            p.rpartition(".")[0] + ":" + p.rpartition(".")[2]
            for p in servers.GUNICORN_WORKERS.values()
        ),
    ],
)
def test_every_server_import_string_names_an_object(target: str) -> None:
    module, _, attribute = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_every_environment_variable_is_named_once() -> None:
    names = [v for k, v in vars(rundir).items() if k.startswith("ENV_")]
    assert len(names) == len(set(names))
    assert all(name.startswith("LAGSCOPE_") for name in names)
