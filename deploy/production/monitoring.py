"""Prometheus and Grafana configuration for the compose deployment.

The alerting rules and the Grafana dashboard are written by hand in ``deploy/monitoring/``;
here only what depends on the deployment: which processes Prometheus scrapes, and where
Grafana finds its data source and dashboard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploy.production.common import OPA_PORT, Process


def rule_files(folder: Path) -> dict[str, str]:
    """name -> text of every Prometheus rule file (a YAML document with `groups`) in folder."""
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else ():
        text = path.read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
        if isinstance(doc, dict) and "groups" in doc:
            out[path.name] = text
    return out


def prometheus_config(procs: list[Process], rules: list[str], rules_dir: str) -> dict[str, Any]:
    """Scrape every process's /metrics (all replicas, found by DNS) and load the rules."""
    jobs: dict[str, list[Process]] = {}
    for p in procs:
        if p.health_port:  # job names as in deploy/monitoring/prometheus/prometheus.yml
            job = p.principal.name if p.principal.kind == "sink" else f"chorus-{p.principal.kind}"
            jobs.setdefault(job, []).append(p)
    scrape: list[dict[str, Any]] = [
        {
            "job_name": job,
            "metrics_path": "/metrics",
            "dns_sd_configs": [
                {
                    "names": [p.service for p in members],
                    "type": "A",
                    "port": members[0].health_port,
                }
            ],
        }
        for job, members in sorted(jobs.items())
    ]
    scrape.append(
        {
            "job_name": "opa",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [f"opa:{OPA_PORT}"]}],
        }
    )
    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "rule_files": [f"{rules_dir}/{name}" for name in rules],
        "scrape_configs": scrape,
    }


def grafana_datasources() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "uid": "prometheus",
                "type": "prometheus",
                "access": "proxy",
                "url": "http://prometheus:9090",
                "isDefault": True,
            }
        ],
    }


def grafana_dashboards() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "chorus",
                "folder": "Chorus",
                "type": "file",
                "disableDeletion": True,
                "options": {"path": "/var/lib/grafana/dashboards"},
            }
        ],
    }
