"""Delivery: routes approved letters to the people who can hand them to the prisoner."""
