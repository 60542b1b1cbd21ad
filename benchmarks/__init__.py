"""Speed and memory targets of the study; ``make bench`` (``python -m benchmarks``) prints their table."""
