"""Privacy: erasure, redaction, safe error texts, addresses, limiter keys, stored sources."""
