"""Generated, realistic data sets loaded by COPY: `tiny` (tests), `demo`, `large` (benchmarks).

Everything comes from one `random.Random(seed)`, so a scale and a seed always give the same
rows (ciphertexts differ: every encryption draws a fresh nonce). Ids are assigned here so that
rows can reference each other without round trips; the identity sequences are moved past them
at the end. Rows are generated lazily and copied in chunks, so memory stays bounded.

The modules: `scales` (how many rows), `vocabularies` (what to draw from), `places` and
`world` (reference data and the state shared by the generators), `tables` (`Load`: what
seeding one table takes), one generator module per domain (`workers`, `employers`, `jobs`,
`trainings`, `insurance`), each exporting the `LOADS` of its tables in foreign-key order, and
`loading` (the domains' loads in dependency order; COPY, progress bar, sequences, ANALYZE,
and `seed` itself). A new table is a model, a migration and a `Load` in its domain's module.
"""

from db.seed.errors import SeedError
from db.seed.loading import seed
from db.seed.scales import SCALES, Scale

__all__ = ["SCALES", "Scale", "SeedError", "seed"]
