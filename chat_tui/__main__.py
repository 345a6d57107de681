from chat_tui.cli import main

raise SystemExit(main())
