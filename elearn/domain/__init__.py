"""Pure domain logic: no Flask, no database, no form library (a test enforces it)."""
