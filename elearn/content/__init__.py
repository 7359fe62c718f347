"""Content as files: read courses and question banks, and report every problem with file and line."""
