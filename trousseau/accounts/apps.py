from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "trousseau.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in  # noqa: PLC0415 - once the apps are loaded

        # Every login of an account goes through accounts.sessions.session_open, which writes
        # `last_login` with the session's rows (one statement on PostgreSQL): Django's receiver would
        # add an UPDATE of its own.
        user_logged_in.disconnect(dispatch_uid="update_last_login")

        from trousseau.accounts import authentication  # noqa: PLC0415
        from trousseau.accounts.backends import SessionAccount  # noqa: PLC0415
        from trousseau.core import session_store, warm  # noqa: PLC0415

        # A logged-in request reads its session and its account by one statement (accounts/backends.py).
        session_store.accompany(SessionAccount())
        warm.at_start("accounts", authentication.warm)
