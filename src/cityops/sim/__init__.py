"""The simulator and the replay of real series: they publish over MQTT like real devices.

Entry points: ``runner.demo_simulator`` / ``runner.Simulator`` (``cityops simulate``) and
``replay.replay_files`` / ``replay.replay`` (``cityops replay``); ``publisher.MqttPublisher``
connects both to a broker. Nothing here imports Rich or Typer: progress goes to callbacks.
"""
