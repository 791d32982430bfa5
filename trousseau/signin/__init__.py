"""Sign-in: the mire, FranceConnect, logout and the way back to the service that sent the person.

Protocols (trousseau/federation) sit above it and register with it from their AppConfig.ready():
logout participants (`signin.logout.register`) and origin resolvers (`signin.continuation.register`).
Sign-in never imports a protocol.
"""
