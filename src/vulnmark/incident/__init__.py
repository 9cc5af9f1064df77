"""Incident follow-up: CCADB incidents and audit findings, their action items, the status
updates and reports the guidelines ask for, and the deadlines they set.

* :mod:`.irg`: the Incident Reporting Guidelines as data (versions, clocks, vocabulary).
* :mod:`.service`: every change, one transaction with its evidence record.
* :mod:`.status`: the Action Items Status table and the status update of a day.
* :mod:`.export`: an incident as JSON.
"""
