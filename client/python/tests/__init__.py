"""The Python client's tests. They run against real examples/server
processes and PostgreSQL: use `make test-python` from the repository root
(or client/python/run_tests.sh under withpg). `python3 -m tests` from
client/python runs them and fails on skipped tests too; `python3 -m unittest`
works as well."""
