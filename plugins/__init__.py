"""Built-in plugins, each registered through the ``parcours`` entry-point group."""
