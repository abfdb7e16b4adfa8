"""Background work: queue names, the after-commit enqueue helper, the worker and the schedule."""
