"""Generated, realistic data sets loaded by COPY: `tiny` (tests), `demo`, `large` (benchmarks).

Everything comes from one `random.Random(seed)`, so a scale and a seed always give the same
rows (ciphertexts differ: every encryption draws a fresh nonce). Ids are assigned here so that
rows can reference each other without round trips; the identity sequences are moved past them
at the end. Rows are generated lazily and copied in chunks, so memory stays bounded.

The modules: `scales` (how many rows), `vocabularies` (what to draw from), `places` and
`world` (reference data and the state shared by the generators), one generator module per
domain (`workers`, `employers`, `jobs`, `trainings`, `insurance`), and `loading` (COPY,
progress bar, sequences, ANALYZE, and `seed` itself).
"""

from db.seed.errors import SeedError
from db.seed.loading import seed
from db.seed.scales import SCALES, Scale

__all__ = ["SCALES", "Scale", "SeedError", "seed"]
