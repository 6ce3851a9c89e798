"""Run plumbing shared by the entry points: config printing, loggers, summaries, plots."""
