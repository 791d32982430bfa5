from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "trousseau.directory"
    label = "directory"
