"""Server-rendered pages (Jinja + htmx), French first."""
