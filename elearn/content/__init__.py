"""Content as files: read courses and question banks; report every problem by file and line."""
