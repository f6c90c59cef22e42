"""Zalo Bot Platform: a thin HTTP client and the parser that turns updates into
channel-neutral :class:`bot.messages.Incoming` objects."""
