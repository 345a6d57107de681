"""The Textual shell: the app, its screens and widgets, the key map and the palette.

Everything outside this package is the core, which never imports Textual.
"""
