"""`python -m tinyqat`: the command line."""

from tinyqat.cli import main

main()
