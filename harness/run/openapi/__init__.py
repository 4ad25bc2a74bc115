"""The ``openapi`` scenario's plan, built in the control process before the load: the app's
schema read (schema), values generated for each operation (values, with Hypothesis), encoded
as requests (encode), path parameters linked to earlier answers (links), put together with
methods, weights and coverage (plan).  The plan's format is lagscope.openapi_plan."""
