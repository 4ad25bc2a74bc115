from __future__ import annotations

from lagscope.harness.cli.main import main

raise SystemExit(main())
