"""`chorus dashboard`: its help documents it, and bad options are one line (no Kafka)."""

from __future__ import annotations

import pytest

from deploy import cli


def test_help_documents_the_page_and_its_endpoints(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["dashboard", "--help"], environ={})
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for part in ("usage: chorus dashboard", "--port", "--aggregates", "/metrics", "/health"):
        assert part in out


def test_an_unknown_aggregate_is_refused_in_one_line(capsys):
    code = cli.main(["dashboard", "--aggregates", "care_leavers,nonsense"], environ={})
    assert code == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown nonsense" in err
