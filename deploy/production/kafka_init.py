"""The compose init job's script: every Kafka user, topic and ACL of the access plan.

It runs in the Kafka image with Kafka's own tools (``kafka-configs.sh``,
``kafka-topics.sh``, ``kafka-acls.sh``) as the super user ``admin``, and is idempotent:
a user's password is set again from its secret file, an existing topic is left alone,
an existing ACL is added again without effect. Passwords are read from the secret files
at run time; the script holds none.
"""

from __future__ import annotations

import shlex

from deploy.access.plan import ADMIN, AccessPlan, Acl
from deploy.production.common import HEADER, SECRETS_DIR
from deploy.production.compose import BOOTSTRAP, CA_SECRET, user_secret
from deploy.production.strimzi import OPERATIONS

REPLICATION = 1  # the compose deployment has one broker

PREAMBLE = f"""\
#!/bin/bash
{HEADER.strip()}
#
# Creates every Kafka user (SCRAM-SHA-512), topic and ACL that `chorus access plan` lists,
# as the super user admin. Run by the kafka-init service of compose.yaml; idempotent.
# It only adds; the kafka-access service then runs `chorus access apply` as admin, which
# also removes what the plan no longer lists (an agreement expired).
set -euo pipefail

BOOTSTRAP={BOOTSTRAP}
BIN=/opt/kafka/bin
CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT
{{
  echo "security.protocol=SASL_SSL"
  echo "sasl.mechanism=SCRAM-SHA-512"
  echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
username=\\"{ADMIN}\\" password=\\"$(cat {SECRETS_DIR}/{user_secret(ADMIN)})\\";"
  echo "ssl.truststore.type=PEM"
  echo "ssl.truststore.location={SECRETS_DIR}/{CA_SECRET}"
}} > "$CONFIG"

# Each step is one run of a Kafka tool (a JVM); up to PARALLEL run at once, and any
# failure stops the script with a non-zero exit.
PARALLEL=4
run() {{
  "$@" &
  while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n; done
}}
finish() {{
  for pid in $(jobs -p); do wait "$pid"; done
}}

user() {{  # NAME SECRET: the user's SCRAM credential, its password from its secret file
  run "$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" \\
    --alter --entity-type users --entity-name "$1" \\
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$(cat "{SECRETS_DIR}/$2")]"
}}

topic() {{  # NAME PARTITIONS [--config KEY=VALUE ...]
  run "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" \\
    --create --if-not-exists --topic "$1" --partitions "$2" \\
    --replication-factor {REPLICATION} "${{@:3}}"
}}

acl() {{  # PRINCIPAL OPERATION[,OPERATION...] RESOURCE...
  local operations=()
  for op in ${{2//,/ }}; do operations+=(--operation "$op"); done
  run "$BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" \\
    --add --allow-principal "User:$1" "${{operations[@]}}" "${{@:3}}"
}}
"""

_RESOURCE_FLAGS = {"TOPIC": "--topic", "GROUP": "--group", "TRANSACTIONAL_ID": "--transactional-id"}


def acl_lines(acls: tuple[Acl, ...]) -> list[str]:
    """One `acl` line per principal and resource, with all its operations."""
    operations: dict[tuple[str, str, str, str], list[str]] = {}
    for acl in acls:
        if acl.permission != "ALLOW":
            raise ValueError(f"{acl.line()}: the init script grants ALLOW rules only")
        key = (acl.principal, acl.resource_type, acl.resource_name, acl.pattern_type)
        operations.setdefault(key, []).append(OPERATIONS[acl.operation])
    lines = []
    for (principal, rtype, name, pattern), ops in sorted(operations.items()):
        words = ["acl", principal, ",".join(sorted(ops))]
        if rtype == "CLUSTER":
            words.append("--cluster")
        else:
            words += [_RESOURCE_FLAGS[rtype], name, "--resource-pattern-type", pattern.lower()]
        lines.append(shlex.join(words))
    return lines


def access_script(plan: AccessPlan) -> str:
    lines = [PREAMBLE, "# users"]
    # admin's credential is made when the broker formats its storage (kafka/start.sh).
    lines += [
        shlex.join(["user", p.name, user_secret(p.name)])
        for p in plan.principals
        if p.name != ADMIN
    ]
    lines.append("\n# topics (deploy/topic_plan.py)")
    for t in plan.topics:
        words = ["topic", t.name, str(t.partitions)]
        for key, value in sorted(t.kafka_config().items()):
            words += ["--config", f"{key}={value}"]
        lines.append(shlex.join(words))
    lines.append("\n# ACLs (deploy/access/plan.py)")
    lines += acl_lines(plan.acls)
    lines.append('\nfinish\necho "kafka-init: users, topics and ACLs in place"')
    return "\n".join(lines) + "\n"
