from datetime import date

import pytest

from ettl_assets.cli import main, materialize_command


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["land", "--start", "2012-12-31"], "outside the sample data"),
        (["land", "--end", "2013-02-30"], "is not a date"),
    ],
)
def test_bad_dates_are_refused_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(SystemExit, match="is after --end"):
        main(["run", "--start", "2013-01-05", "--end", "2013-01-04"])


def test_run_materializes_every_asset_for_the_inclusive_range_in_one_command():
    command = materialize_command(date(2013, 1, 1), date(2013, 1, 31))
    assert command[1:] == [
        "asset", "materialize", "-m", "ettl_assets.definitions",
        "--select", "*", "--partition-range", "2013-01-01...2013-01-31",
    ]  # fmt: skip
