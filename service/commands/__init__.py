"""Sub-commands of the ``xuncha`` CLI, one module per concern."""
