"""The row rules each daily silver model declares in its YAML (`config.meta.ettl.row_rules`:
key, window column, drops; macros/row_rules.sql applies them), read from dbt's manifest. The
ledger's silver models, and the bronze source of each, come from here: a new source is in the
ledger by its declaration, and nothing restates its rules."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ettl_assets.reconciliation.rules import SILVER_RULES


@dataclass(frozen=True)
class RowRules:
    """One daily silver model's declared row rules and the bronze source it reads."""

    source: str
    model: str
    key: tuple[str, ...]
    window_column: str
    drops: tuple[str, ...]


def declared_row_rules(manifest: Mapping[str, Any]) -> dict[str, RowRules]:
    """{model name: its rules} for every model that declares row rules."""
    found = {}
    for node in manifest["nodes"].values():
        meta = node.get("config", {}).get("meta") or {}
        declared = (meta.get("ettl") or {}).get("row_rules")
        if node["resource_type"] != "model" or not declared:
            continue
        unknown = set(declared.get("drops") or ()) - set(SILVER_RULES)
        if unknown:
            raise ValueError(f"{node['name']}: unknown row rule(s) {sorted(unknown)}")
        known = manifest["sources"]
        sources = [known[n] for n in node["depends_on"]["nodes"] if n in known]
        bronze = [source["name"] for source in sources if source["source_name"] == "bronze"]
        if len(bronze) != 1:
            raise ValueError(f"{node['name']}: row rules need one bronze source, found {bronze}")
        found[node["name"]] = RowRules(
            bronze[0],
            node["name"],
            tuple(declared.get("key") or ()),
            declared["window_column"],
            tuple(declared["drops"]),
        )
    return found


def undeclared_daily_silver_models(manifest: Mapping[str, Any]) -> list[str]:
    """Daily silver models that declare no row rules: the ledger cannot account for them, and
    the dbt step says so rather than leave them out without a word."""
    declared = declared_row_rules(manifest)
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and "daily" in node.get("tags", [])
        and node.get("config", {}).get("schema") == "silver"
        and node["name"] not in declared
    )
