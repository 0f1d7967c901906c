"""The process around the schema: settings, the Starlette app, the CLI."""
