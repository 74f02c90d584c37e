"""Writes of time tracking, one module per subject. Import from the submodule.

``entries`` (log, correct, void), ``timer`` (start, stop, discard), ``months`` (lock and
reopen a service month), ``month_time`` (the worklist's per-patient-month summary, which every
entry change recomputes), ``settings`` (the practice's time-tracking settings) and ``bench``
(the benchmark's bulk seed). Every service checks the practice, the state and the permission
first, then writes, then audits in the same transaction; entry writes hold the advisory locks
of ``timetracking.locks``. The exclusion constraint on ``period`` stays the last word.
"""
