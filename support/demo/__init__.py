"""Demo data: `flask demo seed` and the realistic rows it writes in bulk."""
