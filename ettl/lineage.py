"""`ettl lineage`: the lineage of an asset, or of one of its columns, as a tree in the terminal.

Read from what the UI shows: the asset graph (asset level), the `dagster/column_lineage` of each
asset's latest materialization (column level), and each bronze asset's landing pattern (where a
source's files come from). A bronze column comes from the landing column of the same name.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph

from ettl.selection import UnknownAssetError, resolve_asset
from ettl_assets import settings
from ettl_assets.bronze.assets import LANDING_PATTERN
from ettl_assets.metadata import COLUMN_LINEAGE, COLUMN_SCHEMA


@dataclass(frozen=True)
class Node:
    key: dg.AssetKey
    column: str | None = None

    def __str__(self) -> str:
        name = self.key.to_user_string()
        return f"{name}.{self.column}" if self.column else name


class LineageError(ValueError):
    """An asset or column that the graph or its metadata does not know; says what does exist."""


class Lineage:
    def __init__(self, graph: AssetGraph, instance: dg.DagsterInstance) -> None:
        self.graph = graph
        self.latest: dict[dg.AssetKey, dict] = {}
        for key in graph.get_all_asset_keys():
            event = instance.get_latest_materialization_event(key)
            if event is not None and event.asset_materialization is not None:
                self.latest[key] = event.asset_materialization.metadata

    def resolve(self, asset: str, column: str | None) -> Node:
        try:
            key = resolve_asset(self.graph, asset)
        except UnknownAssetError as exc:
            raise LineageError(str(exc)) from exc
        asset = key.to_user_string()
        if column is not None:
            columns = self.columns(key)
            if columns and column not in columns:
                raise LineageError(f"{asset} has no column {column!r}; columns: {columns}")
            if not columns:
                raise LineageError(f"{asset} has no recorded column schema yet: materialize it")
        return Node(key, column)

    def columns(self, key: dg.AssetKey) -> list[str]:
        """Its latest schema, plus its columns that downstream lineage reads (a bronze table
        also holds the columns of earlier deliveries, e.g. a name before a rename)."""
        schema = self.latest.get(key, {}).get(COLUMN_SCHEMA)
        names = [c.name for c in schema.value.columns] if schema is not None else []
        for child in self.graph.get(key).child_keys:
            for deps in self._column_deps(child).values():
                names += [d.column for d in deps if d.key == key and d.column not in names]
        return names

    def _column_deps(self, key: dg.AssetKey) -> dict[str, list[Node]]:
        lineage = self.latest.get(key, {}).get(COLUMN_LINEAGE)
        if lineage is None:
            return {}
        return {
            column: sorted((Node(d.asset_key, d.column_name) for d in deps), key=str)
            for column, deps in lineage.value.deps_by_column.items()
        }

    def landing(self, key: dg.AssetKey) -> str | None:
        pattern = self.graph.get(key).metadata.get(LANDING_PATTERN)
        return f"landing file {settings.landing_root()}/{pattern}" if pattern else None

    def upstream(self, node: Node) -> list[Node | str]:
        if node.column is None:
            parents = sorted(self.graph.get(node.key).parent_keys, key=str)
            return [Node(parent) for parent in parents] or _leaf(self.landing(node.key))
        deps = self._column_deps(node.key)
        if node.column in deps:
            return list(deps[node.column]) or ["(computed: no input column, e.g. count(*))"]
        landing = self.landing(node.key)
        return [f"{landing}, column {node.column}"] if landing else []

    def downstream(self, node: Node) -> list[Node | str]:
        children = sorted(self.graph.get(node.key).child_keys, key=str)
        if node.column is None:
            return [Node(child) for child in children]
        found = []
        for child in children:
            for column, deps in self._column_deps(child).items():
                if node in deps:
                    found.append(Node(child, column))
        return sorted(found, key=str)

    def tree(self, root: Node, downstream: bool = False) -> Iterator[str]:
        """Lines of the tree below `root`, drawn like `tree` draws folders."""
        step = self.downstream if downstream else self.upstream
        yield str(root)
        yield from _draw(root, step, prefix="")


def _leaf(text: str | None) -> list[str]:
    return [text] if text else []


def _draw(node: Node, step, prefix: str) -> Iterator[str]:
    children = step(node)
    for position, child in enumerate(children):
        last = position == len(children) - 1
        yield f"{prefix}{'└── ' if last else '├── '}{child}"
        if isinstance(child, Node):
            yield from _draw(child, step, prefix + ("    " if last else "│   "))
