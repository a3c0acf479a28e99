"""Telling a PostgreSQL that refuses the login from one that is not there: `make up` starts an embedded server
only for the second."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from payments_core.db.connect import reachable
from payments_core.errors import ConfigError
from platform_ops.servers import free_port


def test_a_server_that_refuses_the_login_is_an_error_naming_database_url(postgres_server):
    refused = make_url(postgres_server).set(username="no_such_role", password="x").render_as_string(
        hide_password=False)

    with pytest.raises(ConfigError) as raised:
        reachable(refused)

    said = str(raised.value)
    assert "DATABASE_URL" in said and "refuses the login" in said and "no_such_role" in said
    assert ":x@" not in said  # never the password


def test_nothing_answering_is_not_an_error(postgres_server):
    nobody = make_url(postgres_server).set(port=free_port()).render_as_string(hide_password=False)

    assert reachable(nobody) is False
    assert reachable(postgres_server) is True
