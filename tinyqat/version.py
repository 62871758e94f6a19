"""The tinyqat version (one definition: the package metadata reads it from here at build time)."""

__version__ = "0.1.0"
