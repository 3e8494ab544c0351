"""Staff campaign pages: list, editor, preview, publish, history, revert."""
