from humangate.cli import main

raise SystemExit(main())
