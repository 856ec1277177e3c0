"""``python -m webhook_translator.cli``."""

from webhook_translator.cli import main

raise SystemExit(main())
