"""The probe's fault injector: faults switched on inside any app at run time, no code change.

    injector.py   one worker's injector: applies a switch, follows the shared state, records
    state.py      inject.json, shared by every worker (as shop's faults.json is)
    admin.py      PUT/GET /_lagscope/inject, token-guarded, answered in front of the app
    outbound.py   dependency_latency / dependency_errors: hooks in the HTTP clients' transports
    database.py   db_latency: a SQLAlchemy event listener
    blockers.py   loop_block, cpu_burn, memory_leak: tasks on the worker's loop
    labels.py     how the watchdog tells an injected stall from the app's

The kinds and their parameters are ``lagscope.injection`` (ground floor: the harness and
game-day files parse them too).
"""
