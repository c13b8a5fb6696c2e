"""One module per `python -m graders` command: HELP, add_arguments(parser), run(args)."""
