"""The sample project is a pytest project of its own, run by pytester, not collected here."""

collect_ignore = ["sample"]
