"""Reader counts: which requests are reads (reads.py), recording each read once with one contract
per database (recording.py, sqlite.py, postgresql.py), the Redis buffer, showing and reporting."""
