"""ettl.yaml and its environment overrides: defaults, precedence, one-line errors per key."""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ettl_assets import project_config
from ettl_assets.project_config import ENV, ConfigError, describe, load


@pytest.fixture
def config_file(tmp_path, monkeypatch) -> Path:
    """An empty configuration file of its own, and no override in the environment."""
    for variable in ENV.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(project_config, "_exported", {})
    path = tmp_path / "ettl.yaml"
    path.write_text("")
    monkeypatch.setenv("ETTL_CONFIG", str(path))
    return path


def test_the_repository_file_holds_the_sample_values():
    document = project_config._read_file(project_config.DEFAULT_CONFIG_FILE)
    assert document == {"first_day": "2013-01-01", "timezone": "UTC"}


def test_every_key_has_its_documented_default(config_file):
    config = load()
    root = project_config.PROJECT_ROOT
    assert (config.first_day, config.timezone) == (date(2013, 1, 1), ZoneInfo("UTC"))
    assert config.data_dir == root / "data"
    assert config.landing_root == str(root / "data" / "landing")
    assert {origin for _, _, origin in describe()} == {"default"}


def test_the_file_sets_keys_and_relative_paths_are_relative_to_it(config_file):
    config_file.write_text(
        "first_day: 2026-11-16\ntimezone: America/New_York\ndata_dir: wh\n"
        "landing_root: memory://drop\n"
    )
    config = load()
    assert config.first_day == date(2026, 11, 16)
    assert config.timezone == ZoneInfo("America/New_York")
    assert config.data_dir == config_file.parent / "wh"
    assert config.landing_root == "memory://drop"
    assert describe() == [
        ("first_day", "2026-11-16", "ettl.yaml"),
        ("timezone", "America/New_York", "ettl.yaml"),
        ("data_dir", str(config_file.parent / "wh"), "ettl.yaml"),
        ("landing_root", "memory://drop", "ettl.yaml"),
    ]


def test_an_edited_file_is_read_again_at_once(config_file):
    """The parsed file is cached by its text: an edit of the same length right after counts."""
    config_file.write_text("first_day: 2013-01-01\n")
    assert load().first_day == date(2013, 1, 1)
    config_file.write_text("first_day: 2013-01-02\n")
    assert load().first_day == date(2013, 1, 2)
    document = project_config._read_file(config_file)
    document["first_day"] = "mutated by a caller"
    assert load().first_day == date(2013, 1, 2)


def test_the_landing_root_defaults_to_the_configured_data_dir(config_file):
    config_file.write_text("data_dir: /srv/ettl\n")
    assert load().landing_root == "/srv/ettl/landing"


def test_environment_overrides_the_file(config_file, monkeypatch, tmp_path):
    config_file.write_text("first_day: 2013-01-01\ntimezone: UTC\nlanding_root: /a\n")
    monkeypatch.setenv("ETTL_FIRST_DAY", "2020-02-29")
    monkeypatch.setenv("ETTL_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ETTL_LANDING_ROOT", "file:///srv/landing/")
    config = load()
    assert config.first_day == date(2020, 2, 29)
    assert config.timezone == ZoneInfo("Europe/Paris")
    assert config.data_dir == tmp_path / "d"
    assert config.landing_root == "file:///srv/landing"
    assert [origin for _, _, origin in describe()] == [f"env {v}" for v in ENV.values()]


def test_a_value_exported_for_child_processes_is_not_reported_as_an_override(config_file):
    project_config.export_environment(load())
    assert {origin for _, _, origin in describe()} == {"default"}


def test_a_relative_data_dir_set_by_the_user_stays_in_force_once_exported(
    config_file, tmp_path, monkeypatch
):
    """`ETTL_DATA_DIR=../restored/data ettl restore ...` (docs/backups.md): the resolved path is
    what children get, and it is still the user's setting, not the default."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ETTL_DATA_DIR", "../restored/data")
    project_config.export_environment(load())
    assert load().data_dir == (tmp_path / "../restored/data").resolve()
    assert project_config.os.environ["ETTL_DATA_DIR"] == str(load().data_dir)
    project_config.export_environment(load())  # again, as a second entry point would
    assert load().data_dir == (tmp_path / "../restored/data").resolve()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("first_day: 2013-02-30", "key 'first_day': '2013-02-30' is not a date (YYYY-MM-DD)"),
        ("first_day: soon", "key 'first_day': 'soon' is not a date (YYYY-MM-DD)"),
        ("timezone: Mars/Olympus", "key 'timezone': 'Mars/Olympus' is not an IANA timezone"),
        ("data_dir: s3://bucket/wh", "key 'data_dir': the data dir must be a local path"),
        ("data_dir: 3", "key 'data_dir': expected a path or URL, got 3"),
        ("landing_root: ''", "key 'landing_root': expected a path or URL, got ''"),
        ("landing_root: nosuchfs://x", "key 'landing_root': no filesystem for nosuchfs://"),
        ("first_dya: 2013-01-01", "unknown key 'first_dya' (known: first_day, timezone,"),
        ("- first_day", "expected a mapping of keys"),
        ("first_day: [", "not valid YAML"),
    ],
)
def test_a_bad_file_value_is_one_line_naming_the_file_and_key(config_file, content, message):
    config_file.write_text(content + "\n")
    with pytest.raises(ConfigError) as error:
        load()
    assert str(error.value).startswith(f"{config_file}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ETTL_FIRST_DAY", "2013-13-01", "ETTL_FIRST_DAY='2013-13-01': '2013-13-01' is not a date"),
        ("ETTL_TIMEZONE", "UTC+1", "ETTL_TIMEZONE='UTC+1': 'UTC+1' is not an IANA timezone"),
        ("ETTL_DATA_DIR", "memory://x", "ETTL_DATA_DIR='memory://x': the data dir must be a local"),
        ("ETTL_LANDING_ROOT", "nosuchfs://x", "ETTL_LANDING_ROOT='nosuchfs://x': no filesystem"),
    ],
)
def test_a_bad_override_is_one_line_naming_the_variable(config_file, monkeypatch, variable,
                                                         value, message):  # fmt: skip
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace("+", r"\+")):
        load()


def test_a_named_config_file_that_does_not_exist_is_an_error(config_file):
    config_file.unlink()
    with pytest.raises(ConfigError, match=f"ETTL_CONFIG={config_file}: no such file"):
        load()


def test_the_span_runs_from_the_first_day_through_yesterday_in_the_timezone(config_file):
    config_file.write_text("first_day: 2020-01-01\ntimezone: Pacific/Kiritimati\n")
    config = load()
    today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()  # UTC+14: often a day ahead
    assert config.last_complete_day() == today - timedelta(days=1)
    config.check_day(date(2020, 1, 1))
    config.check_day(today - timedelta(days=1))
    for refused in (date(2019, 12, 31), today):
        with pytest.raises(ConfigError, match=f"^{refused} is outside the configured data span "
                           f"2020-01-01..{today - timedelta(days=1)} "):  # fmt: skip
            config.check_day(refused)
