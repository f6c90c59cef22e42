"""Offline fakes of the Telegram and Zalo bot APIs for end-to-end tests and ``make demo``."""
