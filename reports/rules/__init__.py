"""Diagnosis rules over the app-side gauges, statuses and latencies (one module per kind).

Every rule is a pure function ``Figures -> list[Finding]`` that reads only generic data
(what the probe records for any app: gauges, requests, loop, resources), never
anything a particular app reports.  ``lagscope.reports.diagnosis.RULES`` is the registry.
"""
