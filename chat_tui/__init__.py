"""chat-tui: a terminal chat client for Azure OpenAI, OpenAI and OpenAI-compatible servers."""

__version__ = "0.1.0"
