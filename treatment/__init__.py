"""The pure treatment domain: regimens, dose plans, dose counting, triage.

Nothing here reads a clock, a file outside the package data, the network or a database:
time and data are parameters, so every rule can be tested with any date in any time zone.
"""
