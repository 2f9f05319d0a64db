"""How every Kafka client Chorus creates authenticates: one frozen settings object.

The entry point (``deploy/cli.py``) builds a :class:`KafkaSecurity` from the environment
or a connector's configuration and passes it down; code that creates a client asks it
for the keyword arguments of its library (kafka-python, aiokafka or faust). The
password is never printed: it is left out of ``repr`` and of every message.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

PLAINTEXT = "PLAINTEXT"
SASL_PLAINTEXT = "SASL_PLAINTEXT"
SASL_SSL = "SASL_SSL"
PROTOCOLS = (PLAINTEXT, SASL_PLAINTEXT, SASL_SSL)
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


@dataclass(frozen=True)
class KafkaSecurity:
    """A client's security settings; the default is an unauthenticated PLAINTEXT client."""

    protocol: str = PLAINTEXT
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""  # the CA that signed the brokers' certificates (SASL_SSL)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"Kafka security protocol {self.protocol!r}: use one of {PROTOCOLS}")
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"SASL mechanism {self.mechanism!r}: use one of {MECHANISMS}")
        if self.sasl and not (self.username and self.password):
            raise ValueError(f"{self.protocol} needs a Kafka user name and password")

    @property
    def sasl(self) -> bool:
        return self.protocol in (SASL_PLAINTEXT, SASL_SSL)

    def describe(self) -> str:
        """For logs and messages: the protocol and user, never the password."""
        return f"{self.protocol} as {self.username}" if self.sasl else self.protocol

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.protocol != SASL_SSL:
            return None
        return ssl.create_default_context(cafile=self.ca_file or None)

    def _sasl(self) -> dict[str, Any]:
        """The keywords kafka-python and aiokafka name alike."""
        return {
            "security_protocol": self.protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer, KafkaAdminClient."""
        if not self.sasl:
            return {}
        out = self._sasl()
        if self.protocol == SASL_SSL and self.ca_file:
            out["ssl_cafile"] = self.ca_file
        return out

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        if not self.sasl:
            return {}
        out = self._sasl()
        if self.protocol == SASL_SSL:
            out["ssl_context"] = self.ssl_context()
        return out

    def faust(self) -> dict[str, Any]:
        """Keyword arguments for ``faust.App``: ``broker_credentials`` when authenticating."""
        if not self.sasl:
            return {}
        import faust

        credentials = faust.SASLCredentials(
            username=self.username,
            password=self.password,
            mechanism=self.mechanism,
            ssl_context=self.ssl_context(),
        )
        return {"broker_credentials": credentials}


UNAUTHENTICATED = KafkaSecurity()
