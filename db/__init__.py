"""Storage: tables, sessions, migrations, reference data, seeding. Never imports Strawberry."""
