//! Markdown, read as mdbook reads it (pulldown-cmark).
