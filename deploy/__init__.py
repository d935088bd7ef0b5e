"""Running the system where there is no Docker engine: embedded servers and service processes."""
