from ettl_assets.bronze.drift import contract_drift, drift_history, fits, schema_changes
from ettl_assets.bronze.registry import ColumnSpec, SourceSpec

SPEC = SourceSpec(
    name="things", description="", format="csv", landing="t/{date}.csv", cadence="daily",
    owners=(), system="test", declared_in=None,
    columns=(ColumnSpec("id", "bigint"), ColumnSpec("delay", "bigint"),
             ColumnSpec("code", "string"), ColumnSpec("flag", "boolean")),
    aliases=(("delay_minutes", "delay"),), optional=("flag",),
)  # fmt: skip
V1 = [("id", "bigint"), ("delay", "bigint"), ("code", "bigint")]
V2 = [("id", "bigint"), ("delay_minutes", "bigint"), ("code", "string"), ("flag", "boolean")]


def test_types_that_the_contract_type_holds_without_loss_fit():
    assert fits("bigint", "double") and fits("bigint", "string") and fits("null", "bigint")
    assert not fits("string", "bigint") and not fits("double", "bigint")


def test_contract_drift_names_each_kind():
    assert contract_drift(SPEC, V1) == []  # `flag` is optional, `code` bigint fits text
    drifted = [("delay_minutes", "string"), ("code", "string"), ("gate", "string")]
    assert [str(d) for d in contract_drift(SPEC, drifted)] == [
        "missing id: declared, not delivered",
        "renamed delay: delivered as delay_minutes (known alias)",
        "type_changed delay_minutes: delivered string, contract bigint",
        "added gate: not in the contract, delivered string",
    ]
    assert contract_drift(SPEC, []) == []  # an empty delivery has no schema to judge


def test_changes_between_deliveries_find_renames_through_aliases():
    assert schema_changes(SPEC, V1, V2) == [
        "renamed delay -> delay_minutes", "added flag (boolean)", "code: bigint -> string",
    ]  # fmt: skip
    assert schema_changes(SPEC, V2, V1)[0] == "renamed delay_minutes -> delay"


def test_history_lists_the_first_delivery_and_each_change_skipping_empty_days():
    schemas = [("2013-06-29", V1), ("2013-06-30", V1), ("2013-07-01", []), ("2013-07-02", V2)]
    history = drift_history(SPEC, schemas)
    assert [day for day, _ in history] == ["2013-06-29", "2013-07-02"]
    assert history[0][1] == ["first delivery: 3 columns"]
