"""Running Trousseau in production: probes, metrics, request ids and logs (docs/deployment.md)."""
