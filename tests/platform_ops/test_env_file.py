"""The local .env: fresh random secrets, never the example's, and an older .env keeps its values."""

from pathlib import Path

from platform_ops.env_file import is_secret, update_env_file

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def variables(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line[:1].isupper() and "=" in line)


def test_a_new_env_has_a_fresh_random_value_for_every_secret_and_the_example_for_the_rest(tmp_path):
    first, second = tmp_path / "first.env", tmp_path / "second.env"
    update_env_file(EXAMPLE, first)
    update_env_file(EXAMPLE, second)
    example, made, again = variables(EXAMPLE), variables(first), variables(second)

    secrets = {name for name in example if is_secret(name)}
    assert {"IMPORTER_SECRET_KEY", "IMPORTER_ADMIN_PASSWORD", "S3_SECRET_KEY", "POSTGRES_PASSWORD",
            "MB_ENCRYPTION_SECRET_KEY", "METABASE_ADMIN_PASSWORD"} <= secrets
    for name in secrets:
        assert made[name] != example[name] and made[name] != again[name], name
        assert len(made[name]) == 64 and any(c.isdigit() for c in made[name]), name  # Metabase wants a digit
    assert {n: v for n, v in made.items() if n not in secrets} == {n: v for n, v in example.items()
                                                                    if n not in secrets}
    assert first.stat().st_mode & 0o077 == 0, "only its owner reads it"


def test_an_older_env_keeps_its_values_and_gains_the_new_variables_with_fresh_secrets(tmp_path):
    example, env = tmp_path / ".env.example", tmp_path / ".env"
    env.write_text("IMPORTER_PORT=6000\nIMPORTER_SECRET_KEY=mine-and-long-enough-to-keep-for-ever-0123\n")
    example.write_text("# a comment\nIMPORTER_PORT=5050\nIMPORTER_SECRET_KEY=example\nNEW_PASSWORD=example\n"
                       "NEW_SETTING=7\n")

    said = update_env_file(example, env)

    assert said == [f"added to {env} from .env.example: NEW_PASSWORD NEW_SETTING"]
    now = variables(env)
    assert now["IMPORTER_PORT"] == "6000"
    assert now["IMPORTER_SECRET_KEY"] == "mine-and-long-enough-to-keep-for-ever-0123"
    assert now["NEW_SETTING"] == "7" and now["NEW_PASSWORD"] != "example" and len(now["NEW_PASSWORD"]) == 64
    assert update_env_file(example, env) == [], "nothing more to add"
