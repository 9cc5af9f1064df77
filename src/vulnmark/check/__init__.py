"""The check stage: policy + tickets -> findings.

* :mod:`.kinds`: the finding kinds, from which report sections, subject buckets, backfill
  actions and the JSON ``by_kind`` keys derive;
* :mod:`.rules`: the rules, pure functions of a ticket, a policy and an instant;
* :mod:`.infer`: what a ticket's text says (suggested class, evidence, vulnerability signals);
* :mod:`.engine`: keeps the stored evaluations current (:class:`.engine.CheckOptions`);
  :mod:`.parallel` runs a large backlog in worker processes; :mod:`.cache` is the cached
  findings' layout;
* :mod:`.results`: the findings at an instant, the ``list`` view and the check JSON contract.
"""
