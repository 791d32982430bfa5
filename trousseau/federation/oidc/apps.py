from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "trousseau.federation.oidc"
    label = "oidc"
    verbose_name = "OpenID Connect"

    def ready(self) -> None:
        # Sign-in never imports a protocol: OpenID Connect tells it how its sessions end and which
        # origins its clients' logins continue to.
        from django.contrib.auth.signals import user_logged_in  # noqa: PLC0415

        from trousseau.core import back_channel, warm  # noqa: PLC0415
        from trousseau.core import continuation as origins  # noqa: PLC0415
        from trousseau.federation.oidc import continuation, logout, services, tokens  # noqa: PLC0415 - models are loaded now
        from trousseau.signin import logout as signin_logout  # noqa: PLC0415

        signin_logout.register(logout.PARTICIPANT)
        origins.register_catalogue(continuation.CATALOGUE)
        user_logged_in.connect(services.sid_at_login, dispatch_uid="oidc-sid-at-login")
        # Called by clients' servers with their credentials or a token, never with a browser's session.
        back_channel.register("oidc:token", "oidc:userinfo", "oidc:revoke", "oidc:jwks", "oidc:discovery")
        warm.at_start("oidc", tokens.warm)
