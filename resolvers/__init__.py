"""Functions that answer fields: where the schema meets the database."""
