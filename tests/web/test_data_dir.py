"""DATA_DIR is made (mode 0700) by every command that writes into it, also when it does not
exist yet and the database lives elsewhere (``rencontres demo`` once crashed writing its
password file into a folder nobody had created)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from events.database import Database
from web.cli import main
from web.settings import Settings, make_data_dir

SECRET = {"SECRET_KEY": "k" * 40}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_with_the_database_elsewhere_creates_data_dir(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    data_dir = tmp_path / "not" / "there" / "yet"
    env = {**SECRET, "DATA_DIR": str(data_dir), "DATABASE_URL": database_url}

    output = run(["demo"], env)  # the test database (SQLite or PostgreSQL), outside DATA_DIR

    assert mode_of(data_dir) == 0o700
    password_file = data_dir / "demo_password"
    assert mode_of(password_file) == 0o600
    assert password_file.read_text().strip() in output


def test_the_default_sqlite_database_gets_a_private_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    run(["db", "upgrade"], {**SECRET, "DATA_DIR": str(data_dir), "DATABASE_URL": ""})
    assert mode_of(data_dir) == 0o700
    assert (data_dir / "rencontres.db").is_file()


def test_a_generated_secret_key_gets_a_private_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "new"
    settings = Settings.from_env({"DATA_DIR": str(data_dir)})
    assert mode_of(data_dir) == 0o700
    assert (data_dir / "secret_key").read_text().strip() == settings.secret_key
    assert mode_of(data_dir / "secret_key") == 0o600


def test_an_existing_data_dir_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)
    assert make_data_dir(shared) == shared
    assert mode_of(shared) == 0o750


@pytest.mark.parametrize(
    ("database_url", "inside"),
    [
        ("", True),
        ("sqlite:///{data}/other.db", True),
        ("sqlite:///{data}/../elsewhere.db", False),
        ("sqlite:///:memory:", False),
        ("postgresql://rencontres@127.0.0.1/rencontres", False),
    ],
)
def test_which_databases_live_in_data_dir(tmp_path: Path, database_url: str, inside: bool) -> None:
    env = {**SECRET, "DATA_DIR": str(tmp_path), "DATABASE_URL": database_url.format(data=tmp_path)}
    assert Settings.from_env(env).database_in_data_dir is inside
