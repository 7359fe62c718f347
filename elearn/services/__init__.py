"""Use cases over the database. Services flush; the request, or a job (elearn.jobs), commits."""
