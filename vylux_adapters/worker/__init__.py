"""The worker runtime: pools of concurrent attempts driving the core's JobRunner
(:mod:`.pool`), and the process that runs them (:mod:`.runtime`)."""
