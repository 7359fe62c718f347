"""Use cases over the database. Services flush; the request (or CLI command) commits once."""
