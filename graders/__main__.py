"""`python -m graders`: see graders.cli."""

from graders.cli import exit_now, main

exit_now(main())
