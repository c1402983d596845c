"""Fault suite: bad inputs, killed runs, unwritable outputs, numerical extremes."""
