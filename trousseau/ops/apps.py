from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "trousseau.ops"
    label = "ops"

    def ready(self) -> None:
        from trousseau.ops import counting  # noqa: PLC0415 - receivers connect once the models are loaded

        counting.connect()
