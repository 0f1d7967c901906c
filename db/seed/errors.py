"""The one error seeding raises."""


class SeedError(RuntimeError):
    """The database is not in a state the seeding can work on."""
