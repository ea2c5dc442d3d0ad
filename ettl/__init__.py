"""The `ettl` command line and the operator tools behind it: a client of the Dagster instance
and of the `ettl_assets` code location, never imported by it (docs/architecture.md)."""
