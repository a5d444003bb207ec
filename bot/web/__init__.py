"""Published channels as web pages, Atom and JSON feeds (an aiohttp server in the bot's loop)."""
