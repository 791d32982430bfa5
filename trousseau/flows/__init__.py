"""Self-service journeys: one persisted `Flow` row per journey, one function per transition."""
