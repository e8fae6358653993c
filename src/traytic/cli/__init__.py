"""The `traytic` command: run each service, the embedded dev mode, migrations and site admin."""
