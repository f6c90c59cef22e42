"""Channel-agnostic conversation flows. Nothing here imports aiogram or httpx."""
