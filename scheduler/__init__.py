"""The clock: APScheduler jobs that find due work in the database."""
