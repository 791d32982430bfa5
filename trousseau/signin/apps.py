from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "trousseau.signin"
    label = "signin"
    verbose_name = "Connexion"

    def ready(self) -> None:
        from trousseau.signin import logout  # noqa: PLC0415 - the registry hears accounts' sessions_ending

        logout.listen()
