"""The message bus: MQTT, on an embedded broker or an external one (Mosquitto, EMQX)."""
