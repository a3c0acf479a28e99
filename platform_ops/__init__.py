"""Operator tooling: the `payments` command, `make up`'s stack of local servers and services, set-up, the console
producer and dead-letter reader, and Metabase provisioning. It imports the services; nothing imports it."""
