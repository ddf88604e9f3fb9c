from graphllm.cli import main

raise SystemExit(main())
