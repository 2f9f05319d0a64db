from pathlib import Path

from streams.aggregates import registry
from streams.app import create_app
from streams.internal_topics import internal_topics
from streams.settings import WorkerSettings


def _topics(tmp_path: Path, roles: tuple[str, ...]) -> dict[str, object]:
    settings = WorkerSettings(
        app_id="unit-app", pseudonym_key=b"k" * 32, state_dir=tmp_path, roles=roles
    )
    return {t.name: t for t in internal_topics(create_app(settings))}


def test_every_table_changelog_is_listed_compacted_where_faust_compacts(tmp_path):
    found = _topics(tmp_path, ("identity", "gatekeeper", "aggregates"))
    for table in ("identity-links", "identity-persons", "gatekeeper-subjects"):
        assert found[f"unit-app-{table}-changelog"].config["cleanup.policy"] == "compact"
    for spec in registry.AGGREGATES:
        for kind in ("cell-keys", "contributions"):
            changelog = found[f"unit-app-{spec.name}-{kind}-changelog"]
            assert changelog.config["cleanup.policy"] == "compact"
    assert not [name for name in found if name.endswith(("-deltas", "-cells-changelog"))]
    assert {t.partitions for t in found.values()} == {4}


def test_only_the_roles_run_have_their_topics(tmp_path):
    found = _topics(tmp_path, ("identity",))
    assert set(found) == {
        "unit-app-identity-links-changelog",
        "unit-app-identity-persons-changelog",
    }
