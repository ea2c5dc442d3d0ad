"""The silver row rules as macros/row_rules.sql counts them (the counts the ledger records), in
real Spark, against counts made here by hand and by a row-by-row oracle in plain Python.
One `dbt show` (one Spark start, ~1 min): the macro's SQL over rows given inline.

It replaces the pandas rule engine's tests (the ledger no longer restates the rules in Python);
its memory is Spark's: one aggregation, spilled to disk as Spark does, whatever the window.
"""

import json
import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from tests.e2e.helpers import PROJECT_ROOT, dbt

pytestmark = pytest.mark.e2e

START, END = date(2013, 1, 2), date(2013, 1, 8)  # the window [START, END)
D1, D2 = date(2013, 1, 2), date(2013, 1, 3)
EARLY, LATE = datetime(2013, 1, 2, 6), datetime(2013, 1, 3, 6)
RULES = {"key": ["carrier", "number"], "window_column": "filed",
         "drops": ["duplicate", "outside_window", "filed_under_other_day"]}  # fmt: skip

# Hand-made rows on D1 and D2's deliveries: (label, delivered, ingested, file, carrier, number,
# filed). k1 (UA 1545) is delivered twice in D1's file, then later in D2's: that last version
# wins, so both D1 copies are duplicates. B and F move to the other day, C is dated outside the
# window, N has no date.
HAND = [
    ("A", D1, EARLY, "f/2013-01-02.csv", "UA", 1545, D1),
    ("A'", D1, EARLY, "f/2013-01-02.csv", "UA", 1545, D1),
    ("B", D1, EARLY, "f/2013-01-02.csv", "AA", 11, D2),
    ("C", D1, EARLY, "f/2013-01-02.csv", "AA", 12, date(2013, 1, 20)),
    ("N", D1, EARLY, "f/2013-01-02.csv", "AA", 13, None),
    ("D", D2, LATE, "f/2013-01-03.csv", "B6", 1, D2),
    ("E", D2, LATE, "f/2013-01-03.csv", "UA", 1545, D1),
    ("F", D2, LATE, "f/2013-01-03.csv", "B6", 2, D1),
    # The same key in two files ingested at the same instant: the later file name wins.
    ("T", D1, LATE, "f/2013-01-02.csv", "DL", 7, D1),
    ("T'", D2, LATE, "f/2013-01-03.csv", "DL", 7, D1),
]


def generated_rows(seed: int = 29, count: int = 120) -> list[tuple]:
    """Rows delivered 01-05..01-07 under keys of their own, filed in and out of the window (and
    on no day). No two share key, ingest time and file (288 such combinations: `count` stays
    well below), so which version Spark keeps is decided."""
    rng = random.Random(seed)
    rows = {}
    while len(rows) < count:
        delivered = date(2013, 1, 5) + timedelta(rng.randrange(3))
        ingested = datetime(2013, 1, 8, rng.randrange(3))
        file = f"g/{delivered}{rng.choice(['', '-resent'])}.csv"
        carrier, number = rng.choice(["AA", "UA"]), rng.randrange(8)
        filed = rng.choice([None, *(date(2013, 1, 4) + timedelta(n) for n in range(6))])
        rows[(carrier, number, ingested, file)] = ("g", delivered, ingested, file, carrier,
                                                   number, filed)  # fmt: skip
    return list(rows.values())


def oracle(rows: list[tuple]) -> dict[date, dict[str, int]]:
    """Row by row: the latest version of each key (ingest time, then file name) is kept; a kept
    row counts where it is filed, every other row against its delivery day."""
    latest = {}
    for row in rows:
        _, _, ingested, file, carrier, number, _ = row
        key = (carrier, number)
        if key not in latest or (ingested, file) > (latest[key][2], latest[key][3]):
            latest[key] = row
    counts: dict[date, Counter] = {}
    for row in rows:
        _, delivered, *_, filed = row
        day = counts.setdefault(delivered, Counter())
        if latest[(row[4], row[5])] is not row:
            day["duplicate"] += 1
        elif filed is None or not START <= filed < END:
            day["outside_window"] += 1
        elif filed != delivered:
            day["filed_under_other_day"] += 1
            counts.setdefault(filed, Counter())["filed_under_other_day"] -= 1
    return {day: {rule: found[rule] for rule in RULES["drops"]} for day, found in counts.items()}


def sql_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return f"timestamp'{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date'{value}'"
    return f"'{value}'" if isinstance(value, str) else str(value)


def test_the_macro_counts_each_rule_as_counted_by_hand_and_row_by_row(tmp_path):
    rows = HAND + generated_rows()
    values = ",\n".join("(" + ", ".join(map(sql_value, row[1:])) + ")" for row in rows)
    normalized = (
        f"select * from values {values} "
        "as rows(partition_date, _ingested_at, _source_file, carrier, number, filed)"
    )
    inline = "{{ row_rule_counts_sql(" + json.dumps(normalized) + ", " + json.dumps(RULES) + ") }}"
    window = json.dumps({"start_date": str(START), "end_date": str(END)})
    output = dbt(["show", "--inline", inline, "--vars", window, "--limit", "-1",
                  "--output", "json", "--log-format", "json"],
                 "row-rule-counts", cwd=PROJECT_ROOT)  # fmt: skip
    (shown,) = [
        json.loads(event["data"]["preview"])
        # dbt's events are JSON lines; Spark's own log lines are not
        for event in (json.loads(line) for line in output.splitlines() if line.startswith("{"))
        if event.get("data", {}).get("preview")
    ]
    counted = {date.fromisoformat(row.pop("day")): row for row in shown}

    # By hand. D1: A and A' duplicates, T a duplicate (T' is in the later-named file); C and N
    # outside; B out, E, F and T' in (net -2). D2: E, F and T' out, B in (net 2).
    assert counted[D1] == {"duplicate": 3, "outside_window": 2, "filed_under_other_day": -2}
    assert counted[D2] == {"duplicate": 0, "outside_window": 0, "filed_under_other_day": 2}
    assert counted == oracle(rows)
