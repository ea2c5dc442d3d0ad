"""Backups of bronze and gold: `ettl backup` and `ettl restore`.

manifest.py   the manifest.json of a backup: tables, files, rows, checksums
tables.py     which tables a backup holds and their definitions, read from the files
store.py      the backup location (any fsspec URL): hashing copies, bytes for progress
snapshot.py   `ettl backup`
catalog.py    declaring restored tables to Spark through dbt run-operation
restore.py    `ettl restore`
"""
