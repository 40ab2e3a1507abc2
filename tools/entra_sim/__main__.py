from tools.entra_sim.cli import main

raise SystemExit(main())
