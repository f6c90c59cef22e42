"""Youth sentiment polls: create, answer, nudge, results."""
