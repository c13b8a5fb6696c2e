"""`make bench`: how long a learner and an instructor wait, measured the same way every time.

The rows are the speed targets of issue 13: `make check` on the reference solutions and on the
untouched stubs, one task re-checked by `make watch` after a save, `make grade-one`, and
`make grade` of many solution copies and of many one-mutant submissions. Each row runs the
kit's own command line in a fresh process, as a learner or an instructor would, several
times; the table shows the median and the spread, and build/bench.json keeps every sample.
With `--baseline DIR` the same rows run against another checkout of the kit (an older commit,
say) in the same sitting, alternating run by run, so both columns see the same machine load.
Timing is never asserted by a test: a loaded machine makes every number worse, so the bench
prints the load average next to the numbers.

measure.py times one process; inputs.py builds the submission folders; rows.py defines the
rows; extra.py the opt-in rows (nbgrader autograde, `make test` from a fresh clone);
report.py prints the table and writes the JSON.
"""
