"""Renderers turn a summary into something to read: Markdown, the terminal."""
