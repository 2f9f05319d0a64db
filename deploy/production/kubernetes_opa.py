"""OPA on Kubernetes: a Deployment loading Chorus's policy as a signed bundle, and the small
web server that hands it the bundle.

OPA polls the bundle service, checks the bundle's signature with the public key from the
``opa-bundle-verification-key`` Secret, and refuses a bundle signed with any other key.
"""

from __future__ import annotations

from typing import Any

from deploy.production.common import BUNDLE_SERVER_IMAGE, OPA_IMAGE, OPA_PORT
from deploy.production.kubernetes import RESOURCES, object_meta, secret_volume, service

OPA_CONFIG = "opa-config"
OPA_KEY_SECRET = "opa-bundle-verification-key"
BUNDLES = "chorus-bundles"  # the bundle service and the ConfigMap holding the signed bundle


OPA_CONFIG_TEXT = """\
# OPA loads Chorus's policy as a signed bundle from the bundle service and checks its
# signature with the public key mounted from the opa-bundle-verification-key Secret
# (passed with --set-file keys.chorus-policy.key=...). Build and sign bundles with
# `opa build --bundle ... --signing-key` (deploy/OPERATIONS.md).
services:
  bundles:
    url: http://chorus-bundles:8080
bundles:
  chorus:
    service: bundles
    resource: bundles/chorus.tar.gz
    polling:
      min_delay_seconds: 10
      max_delay_seconds: 30
    signing:
      keyid: chorus-policy
keys:
  chorus-policy:
    algorithm: RS256
decision_logs:
  console: false
"""


def opa() -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": "opa", "app.kubernetes.io/part-of": "chorus"}
    container = {
        "name": "opa",
        "image": OPA_IMAGE,
        "args": [
            "run",
            "--server",
            f"--addr=0.0.0.0:{OPA_PORT}",
            "--config-file=/config/opa-config.yaml",
            "--set-file=keys.chorus-policy.key=/keys/verification.pem",
        ],
        "ports": [{"name": "http", "containerPort": OPA_PORT}],
        "resources": RESOURCES["opa"],
        "readinessProbe": {
            "httpGet": {"path": "/health?bundles", "port": OPA_PORT},
            "periodSeconds": 5,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": OPA_PORT},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/config", "readOnly": True},
            {"name": "keys", "mountPath": "/keys", "readOnly": True},
        ],
        "securityContext": {"allowPrivilegeEscalation": False},
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": object_meta(OPA_CONFIG),
            "data": {"opa-config.yaml": OPA_CONFIG_TEXT},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": object_meta("opa"),
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app.kubernetes.io/name": "opa"}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [container],
                        "volumes": [
                            {"name": "config", "configMap": {"name": OPA_CONFIG}},
                            secret_volume(
                                "keys", OPA_KEY_SECRET, [("verification.pem", "verification.pem")]
                            ),
                        ],
                    },
                },
            },
        },
        service("opa", OPA_PORT),
    ]


def bundle_service() -> list[dict[str, Any]]:
    """A small web server handing OPA the signed bundle, from the chorus-policy-bundle
    ConfigMap the operator creates (`kubectl create configmap ... --from-file`)."""
    labels = {"app.kubernetes.io/name": BUNDLES, "app.kubernetes.io/part-of": "chorus"}
    container = {
        "name": "nginx",
        "image": BUNDLE_SERVER_IMAGE,
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
        "readinessProbe": {"httpGet": {"path": "/bundles/chorus.tar.gz", "port": 8080}},
        "livenessProbe": {"httpGet": {"path": "/bundles/chorus.tar.gz", "port": 8080}},
        "volumeMounts": [
            {"name": "bundle", "mountPath": "/usr/share/nginx/html/bundles", "readOnly": True}
        ],
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": object_meta(BUNDLES),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": BUNDLES}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [container],
                        "volumes": [
                            {"name": "bundle", "configMap": {"name": "chorus-policy-bundle"}}
                        ],
                    },
                },
            },
        },
        service(BUNDLES, 8080),
    ]
