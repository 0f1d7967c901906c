"""The benchmark harness: the GraphQL endpoint against hand-written asyncpg, same data, same run.

`python -m bench` seeds the `large` data set once, then measures each workload in `workloads`
under concurrent load, both ways, and reports a table on stdout and a JSON file.
"""
