#!/bin/bash
# Starts the compose deployment's Kafka: one KRaft node, broker and controller.
#
# Clients reach it only on SASL_SSL kafka:9093 (SCRAM-SHA-512 over TLS), and may do only
# what an ACL allows (StandardAuthorizer, allow.everyone.if.no.acl.found=false). The
# controller listener is bound to 127.0.0.1 inside the container and takes SASL/PLAIN from
# the broker only, with a password made up afresh at every start.
#
# Secrets (compose `secrets:`): admin.password (the super user, also used between the
# broker and itself), kafka_keystore (PKCS12: the broker's key and a certificate for the
# name "kafka"), kafka_keystore_password, kafka_ca (the CA certificate, PEM).
# The properties files holding passwords are written to /dev/shm (memory) only.
set -euo pipefail

SECRETS=/run/secrets
DATA=/var/lib/kafka/data
BIN=/opt/kafka/bin
CONF=/dev/shm/chorus-server.properties
ADMIN_CLIENT=/dev/shm/chorus-admin.properties   # for healthcheck.sh
umask 077

admin_password=$(cat "$SECRETS/admin.password")
keystore_password=$(cat "$SECRETS/kafka_keystore_password")
controller_password=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

cat > "$CONF" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9094
listeners=SASL_SSL://0.0.0.0:9093,CONTROLLER://127.0.0.1:9094
advertised.listeners=SASL_SSL://kafka:9093
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT

log.dirs=$DATA/logs
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
auto.create.topics.enable=false

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:controller

sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECRETS/kafka_keystore
ssl.keystore.password=$keystore_password
ssl.truststore.type=PEM
ssl.truststore.location=$SECRETS/kafka_ca
ssl.client.auth=none

sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller_password" user_controller="$controller_password";
PROPERTIES

cat > "$ADMIN_CLIENT" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
ssl.truststore.type=PEM
ssl.truststore.location=$SECRETS/kafka_ca
PROPERTIES

if [ ! -f "$DATA/logs/meta.properties" ]; then
  # First start: format the log directory with the admin's SCRAM credential, so the
  # broker can authenticate to itself before any user exists.
  "$BIN/kafka-storage.sh" format --config "$CONF" --cluster-id "$("$BIN/kafka-storage.sh" random-uuid)" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$admin_password]"
fi

exec "$BIN/kafka-server-start.sh" "$CONF"
