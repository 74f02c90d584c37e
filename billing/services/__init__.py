"""Writes of billing, one module per subject. Import from the submodule.

``months`` (close, close request, reopen, the hourly dispatcher), ``reports`` (queue and
render the month's reports and audit packets), ``bench`` (the benchmark's bulk seed) and
``guards`` (who may act). Every service checks the practice, the state and the permission
first, then writes, then audits in the same transaction, and queues tasks after the commit.
"""
