"""Reads of the patients domain, one module per subject. Import from the submodule.

Every list is a ``QuerySet`` with its ``select_related``/``prefetch_related`` applied and a
constant number of queries whatever the number of rows. ``<noun>_get`` raises ``NotFound`` for a
row that does not exist *or* belongs to another practice.
"""
