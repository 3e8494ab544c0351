"""Dashboard figures: computed (figures), kept as a snapshot, and the monthly history."""
