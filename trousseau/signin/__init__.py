"""Sign-in: the mire, FranceConnect, logout and the way back to the service that sent the person.

Protocols (trousseau/federation) sit above it and register with it from their AppConfig.ready():
logout participants (`signin.logout.register`) and catalogues of their services, which also say where a
login's form may lead (`core.continuation.register_catalogue`).
Sign-in never imports a protocol.
"""
