"""`python -m gkreport`."""

from gkreport.cli import main

# The guard matters: reading files in a process pool re-imports __main__ on Windows and macOS.
if __name__ == "__main__":
    main()
