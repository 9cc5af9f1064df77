"""Threat intake: published vulnerabilities (NVD, CVE 5, CISA KEV, OSV) that concern the CA,
opened as tickets that carry the publication's original classification, with an assessment
clock per class and documented reassessments.

:mod:`.feeds` reads the publications; :mod:`.classify` derives the original class;
:mod:`.watchlist` decides what concerns us; :mod:`.run` opens and updates the tickets;
:mod:`.assess` records the assessment.
"""
