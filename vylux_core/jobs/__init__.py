"""Jobs: what a job is and how it is asked for, its options, results and retries,
and which queue runs it."""
