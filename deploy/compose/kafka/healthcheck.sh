#!/bin/bash
# Healthy when the broker answers an authenticated request on its client listener.
exec /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:9093 \
  --command-config /dev/shm/chorus-admin.properties >/dev/null
