"""The documented rules by which a row may leave between tiers, each named once, here.

Silver keeps the latest version of each key and the rows dated in the run's window (the silver
models and macros/silver_helpers.sql). The ledger RESTATES those rules on bronze's own columns
rather than reusing the models' SQL: it checks the models, so a model that drops rows some other
way, or a rule changed in one place only, shows as an unexplained difference. Each daily silver
model lists these rule names in its `rows_reconciled` test (a unit test keeps both lists equal).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

# Silver: rows of a day's delivery that silver does not keep under that day.
DUPLICATE = "duplicate"  # an older version of a key delivered again (the latest one is kept)
OUTSIDE_WINDOW = "outside_window"  # dated outside the run's window: not written by this run
# Dated on another day of the window: kept, in that day's partition. Net count (out minus in),
# so it is negative for a day that received rows from other days' deliveries.
FILED_UNDER_OTHER_DAY = "filed_under_other_day"
SILVER_RULES = (DUPLICATE, OUTSIDE_WINDOW, FILED_UNDER_OTHER_DAY)

# Gold: silver rows that do not carry over into a fact.
BOOKING_WITHOUT_FLIGHT = "booking_without_flight"  # inner join with the day's flights


def _code(column: pd.Series) -> pd.Series:
    """upper(trim(x)), as the silver models normalize codes."""
    return column.str.strip().str.upper()


def _flight_number(frame: pd.DataFrame) -> pd.Series:
    """The number of a flight delivered as "1545" or "UA1545" (stg_flights__flights): the
    carrier prefix cut off, a value that is then not a number is NULL. Vectorized per length
    of carrier code (a year of 30x flights is 10 M rows)."""
    carrier, flight = _code(frame["carrier"]), _code(frame["flight"])
    cut, lengths = flight.copy(), carrier.str.len()
    for length in lengths.dropna().unique():
        size = int(length)
        prefixed = (lengths == size) & (flight.str[:size] == carrier)
        cut[prefixed] = flight[prefixed].str[size:]
    return pd.to_numeric(cut, errors="coerce")


def _local_date(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame[["year", "month", "day"]], errors="coerce")


@dataclass(frozen=True)
class SilverRules:
    """How one daily silver model keys and dates the rows of its bronze source."""

    source: str
    model: str
    columns: tuple[str, ...]  # the bronze columns the rules read
    key: Callable[[pd.DataFrame], pd.DataFrame]  # one column per part of the model's key
    day: Callable[[pd.DataFrame], pd.Series]  # the date silver files a row under (NaT: none)


def _flight_key(f: pd.DataFrame) -> pd.DataFrame:
    # scheduled_departure_at is the local date and hhmm made UTC: the same instant exactly
    # when the date and hhmm are the same (outside a daylight-saving gap).
    return pd.DataFrame({"carrier": _code(f["carrier"]), "number": _flight_number(f),
                         "origin": _code(f["origin"]), "year": f["year"], "month": f["month"],
                         "day": f["day"], "hhmm": f["sched_dep_time"]})  # fmt: skip


def _observation_key(f: pd.DataFrame) -> pd.DataFrame:
    observed_at = pd.to_datetime(f["time_hour"], errors="coerce", utc=True)
    return pd.DataFrame({"origin": _code(f["origin"]), "observed_at": observed_at})


SILVER = {
    rules.source: rules
    for rules in (
        SilverRules(
            "flights", "stg_flights__flights",
            ("carrier", "flight", "origin", "year", "month", "day", "sched_dep_time"),
            _flight_key, _local_date,
        ),
        SilverRules(
            "weather", "stg_weather__observations",
            ("origin", "time_hour", "year", "month", "day"),
            _observation_key, _local_date,
        ),
        SilverRules(
            "passengers", "stg_passengers__bookings",
            ("booking_id", "departure_date"),
            lambda f: pd.DataFrame({"booking_id": f["booking_id"].str.strip()}),
            lambda f: pd.to_datetime(f["departure_date"], errors="coerce").dt.normalize(),
        ),
    )
}  # fmt: skip


@dataclass(frozen=True)
class CarryOver:
    """A measure of a gold fact that must equal, per day, a measure of its silver model."""

    fact: str
    source: str
    silver_model: str
    measure: str
    silver_column: str | None  # summed; None: rows are counted
    gold_column: str
    date_column: str = "flight_date"
    # (rule, silver model, key): silver rows whose key has no row in that model for the day
    without_match: tuple[str, str, str] | None = None


_FLIGHTS_SCHEDULED = {"source": "flights", "silver_model": "stg_flights__flights",
                      "measure": "flights_scheduled", "silver_column": None,
                      "gold_column": "flights_scheduled"}  # fmt: skip
_NO_FLIGHT = (BOOKING_WITHOUT_FLIGHT, "stg_flights__flights", "flight_id")
GOLD = (
    CarryOver("fct_daily_carrier_performance", **_FLIGHTS_SCHEDULED),
    CarryOver("fct_daily_route_delays", **_FLIGHTS_SCHEDULED),
    CarryOver("fct_hourly_weather_delays", **_FLIGHTS_SCHEDULED),
    CarryOver("fct_daily_flight_fares", "passengers", "stg_passengers__bookings", "bookings",
              None, "bookings", without_match=_NO_FLIGHT),
    CarryOver("fct_daily_flight_fares", "passengers", "stg_passengers__bookings", "revenue_usd",
              "fare_paid_usd", "revenue_usd", without_match=_NO_FLIGHT),
)  # fmt: skip
GOLD_FACTS = tuple(dict.fromkeys(c.fact for c in GOLD))
