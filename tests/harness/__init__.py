"""Test harness: real Mosquitto and PostgreSQL servers on loopback ports (see servers.py)."""

from .servers import (
    LOOPBACK,
    MosquittoServer,
    PostgresServer,
    ServerStartError,
    ServerUnavailableError,
    find_mosquitto,
    find_postgres_bin,
    free_port,
    mosquitto_unavailable_reason,
    postgres_unavailable_reason,
)

__all__ = [
    "LOOPBACK",
    "MosquittoServer",
    "PostgresServer",
    "ServerStartError",
    "ServerUnavailableError",
    "find_mosquitto",
    "find_postgres_bin",
    "free_port",
    "mosquitto_unavailable_reason",
    "postgres_unavailable_reason",
]
