"""CityOps: an open integrated control center for small and medium municipalities."""

__version__ = "0.1.0"
