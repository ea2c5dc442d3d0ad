"""The documented rules by which a row may leave between tiers, each named once, here.

Silver: each daily silver model declares which of these rules it applies, with its key and
window column, in its YAML (declarations.py reads them; macros/row_rules.sql applies and counts
them, and knows the same names: a unit test keeps both equal). The ledger takes each rule's
count from the model's own SQL and checks the sum against bronze and silver, so a row the model
drops some other way shows as an unexplained difference.
Gold: what carries over from silver into each fact, restated here on the tables' columns.
"""

from dataclasses import dataclass

# Silver: rows of a day's delivery that silver does not keep under that day.
DUPLICATE = "duplicate"  # an older version of a key delivered again (the latest one is kept)
OUTSIDE_WINDOW = "outside_window"  # dated outside the run's window: not written by this run
# Dated on another day of the window: kept, in that day's partition. Net count (out minus in),
# so it is negative for a day that received rows from other days' deliveries.
FILED_UNDER_OTHER_DAY = "filed_under_other_day"
SILVER_RULES = (DUPLICATE, OUTSIDE_WINDOW, FILED_UNDER_OTHER_DAY)

# Gold: silver rows that do not carry over into a fact.
BOOKING_WITHOUT_FLIGHT = "booking_without_flight"  # inner join with the day's flights


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
