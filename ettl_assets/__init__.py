"""ETTL: a tiered (bronze -> silver -> gold) data platform as a Dagster code location."""

import warnings

import dagster as dg

# `backfill_policy` is flagged beta by Dagster, yet it is the documented way to run a date range
# in one run, which every asset here relies on; the warning would repeat on every CLI call.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")
