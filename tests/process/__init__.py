"""Process tier: tests that start other processes or servers (CLI, API, PostgreSQL, a kernel); marker `process`."""
