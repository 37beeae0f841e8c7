"""Readers, one per published source format. Each returns tidy pandas frames and never edits the file."""


class SourceError(ValueError):
    """A source file cannot be read as the format it claims to be."""
