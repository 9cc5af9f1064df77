"""What people do with findings: propose and apply missing labels (:mod:`.backfill`), record
how a vulnerability was handled (:mod:`.outcomes`), change a ticket's class (:mod:`.reclassify`).
Every change is written with its evidence record in the same transaction."""
