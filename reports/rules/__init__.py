"""Diagnosis rules, one module per finding kind: read ``reports.findings.Figures``, return
``Finding``s.

Every rule reads only generic data (what the probe records for any app: gauges,
requests, loop, resources), never anything a particular app reports.
``lagscope.reports.diagnosis.RULES`` is the registry.
"""
