"""Intake: takes letters from the web page and event kiosks, stores them, announces them."""
