"""HTTP routes of the runtime, one module per resource (see ``runtime/app.py`` for the table)."""
