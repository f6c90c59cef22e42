"""``python -m bot`` is the same as the ``doanbot`` command."""

from bot.cli import main

main()
