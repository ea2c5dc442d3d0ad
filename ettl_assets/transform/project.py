"""The dbt project as dagster-dbt sees it, and keeping its manifest current."""

from pathlib import Path

from dagster_dbt import DbtProject

from ettl_assets import settings


def _manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than any file dbt parses."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")
    for entry in watched:
        path = Path(project.project_dir) / entry
        files = [path] if path.is_file() else path.rglob("*")
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def build_dbt_project() -> DbtProject:
    settings.export_data_dir()  # profiles.yml reads ETTL_DATA_DIR
    project = DbtProject(
        project_dir=settings.DBT_PROJECT_DIR,
        profiles_dir=settings.DBT_PROJECT_DIR,
        target=settings.dbt_target(),
    )
    # A checkout is a development environment: re-parse when a model changed so that
    # `dagster asset materialize` never runs an outdated graph. Images ship a prepared manifest
    # (`dagster-dbt project prepare-and-package`), which is never stale there.
    if _manifest_is_stale(project):
        project.preparer.prepare(project)
    return project


dbt_project = build_dbt_project()
