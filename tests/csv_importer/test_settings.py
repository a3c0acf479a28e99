"""The importer's secret key: never the example's, never short, where other machines can reach the app."""

import time

import pytest

from csv_importer import accounts, create_app
from csv_importer.settings import ImporterSettings
from payments_core.errors import ConfigError
from payments_core.settings import example_values, load
from tests.helpers.importer import PASSWORD

EXAMPLE_KEY = "payments-local-importer-secret"


def test_the_example_key_is_one_of_the_examples_values():
    assert EXAMPLE_KEY in example_values()


@pytest.mark.parametrize("key, weakness", [(EXAMPLE_KEY, "the value printed in .env.example"),
                                           ("only-twenty-six-bytes-long", "shorter than 32 bytes")])
def test_a_weak_key_on_a_shared_address_stops_the_app_naming_the_variable(importer_settings, key, weakness):
    values = {**importer_settings.model_dump(), "importer_secret_key": key, "importer_host": "0.0.0.0"}
    with pytest.raises(ConfigError) as refused:
        load(ImporterSettings, **values)
    assert f"IMPORTER_SECRET_KEY is {weakness} and IMPORTER_HOST='0.0.0.0' is reachable" in str(refused.value)
    assert key not in str(refused.value), "the key is never echoed"


def test_a_weak_key_on_loopback_runs_and_says_so(importer_settings, caplog):
    settings = importer_settings.model_copy(update={"importer_secret_key": EXAMPLE_KEY})
    create_app(ImporterSettings(**{**settings.model_dump(), "importer_secret_key": EXAMPLE_KEY}))
    assert "IMPORTER_SECRET_KEY is the example's or short" in caplog.text


def test_a_session_forged_with_the_example_key_opens_nothing(importer_settings, engine):
    accounts.add(engine, "the-admin", PASSWORD, "importer")
    admin = accounts.authenticate(engine, "the-admin", PASSWORD)
    values = importer_settings.model_dump()
    example_app = create_app(ImporterSettings(**{**values, "importer_secret_key": EXAMPLE_KEY}))
    app = create_app(ImporterSettings(**{**values, "importer_secret_key": "0123456789abcdef" * 4,
                                         "importer_host": "0.0.0.0"}))
    # What an attacker signs with the key printed in the repository: the admin's session, as Flask writes one.
    serializer = example_app.session_interface.get_signing_serializer(example_app)
    forged = [serializer.dumps({"account_id": admin.account_id, "signed_in_at": time.time()}),
              serializer.dumps({"token": "guessed", "signed_in_at": time.time()})]

    for target in (example_app, app):  # and a session exists only where the server began it
        for cookie in forged:
            client = target.test_client()
            client.set_cookie("session", cookie)
            response = client.get("/imports")
            assert response.status_code == 303 and "/login" in response.headers["Location"]
