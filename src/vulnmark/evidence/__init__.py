"""The evidence log: an append-only, hash-chained record of everything the control did and
everything people changed.

* :mod:`vulnmark.evidence.chain`: the records, their hash chain and the one verifier (pure: the
  store's log and an exported pack are checked by the same code);
* the store writes the records, in the same transaction as the change each one describes
  (:mod:`vulnmark.store.events`).
"""
