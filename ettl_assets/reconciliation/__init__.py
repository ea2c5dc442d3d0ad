"""The reconciliation ledger (docs/reconciliation.md): every row accounted for, tier to tier."""
