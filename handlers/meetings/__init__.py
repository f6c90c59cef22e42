"""Branch meetings (sinh hoạt chi đoàn): schedule, RSVP, check-in, follow-up."""
