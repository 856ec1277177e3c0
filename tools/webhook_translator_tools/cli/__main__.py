"""``python -m webhook_translator_tools.cli``."""

from webhook_translator_tools.cli import main

raise SystemExit(main())
