"""Developer tooling that is not part of the deployed application."""
