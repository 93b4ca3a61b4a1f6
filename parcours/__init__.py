"""The ``parcours`` command: the composition root wiring core, plugins, tenants and web.

Nothing imports this package; it imports the others.
"""
