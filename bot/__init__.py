"""doanbot: a chat bot for the Ho Chi Minh Communist Youth Union on Telegram and Zalo."""
