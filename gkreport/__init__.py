"""gkreport: monthly progress reporting for a district government's yearly work plan."""

__version__ = "0.1.0"
