"""Silver and gold tiers: the dbt project on Spark, as Dagster assets via dagster-dbt."""
