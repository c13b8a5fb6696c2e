"""Mutation testing of the checks: `python -m graders mutate`.

The hand-written mutants in fixtures/<id>/mutants/ prove the checks catch the mistakes someone
thought of; this package proves them against mistakes nobody wrote down. It mutates every
reference and alternative solution with threading-aware AST operators (delete a join, drop
a lock, pass the wrong arguments, ...), grades each mutant through the real isolated path,
and reports the mutants no check kills. Each survivor is either a missing check or a mutant
whose behaviour is the same as the original's as far as the task text goes; the latter are
listed with a reason in fixtures/mutation/equivalent.txt.

Modules, one job each:
  walk        where the statements are, in which function, and the source that names them
  operators   the mutation operators: the sites each finds in a module and how it mutates them
  generate    the solution files, their mutants with stable ids, and a mutant's diff
  grade       each mutant graded in its own process, several at once
  equivalent  fixtures/mutation/equivalent.txt: the survivors that are not missing checks
  report      the operator x task table, the survivors, build/mutation.json
"""
