"""What readers see, cached under one content version: the version itself, cached values, and
whole pages with holes for what differs per request (see docs/ARCHITECTURE.md)."""
