"""Sorting: screens each letter for the censor, sends clean ones on, renders the scan."""
