import pytest

from ettl_assets.cli import main


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
