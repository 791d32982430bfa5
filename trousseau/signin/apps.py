from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "trousseau.signin"
    label = "signin"
    verbose_name = "Connexion"

    def ready(self) -> None:
        from trousseau.core import warm  # noqa: PLC0415
        from trousseau.signin import logout, mire_page  # noqa: PLC0415 - the registry hears accounts' sessions_ending

        logout.listen()
        warm.at_start("signin", warm.templates(mire_page.TEMPLATE))
