"""Privacy: erasure, erased events, redaction, safe error texts, stored sources, the CLI."""
