"""The daily control: the job that runs check -> report -> deliver -> evidence every day, and
what shows that it did.

* :mod:`.daily`: :class:`.daily.DailyJob`, the daily job;
* :mod:`.health`: the control's own health (missed runs, undelivered reports, the chain);
* :mod:`.schedule`: the in-process loop of ``vulnmark schedule``;
* :mod:`.metrics`: time to classify, time to outcome, share within deadline.
"""
