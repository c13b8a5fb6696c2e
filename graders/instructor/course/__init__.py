"""The nbgrader course: notebooks generated from the kit's own sources, never edited by hand.

regions.py merges an exercise stub and its reference solution into one code cell with nbgrader
solution regions; notebooks.py lays out a task's notebook (task text, code cell, test cells
with the checks' points); build.py writes the course folder and nbgrader_config.py; feedback.py
is the preprocessor that keeps hidden tests out of `nbgrader generate_feedback`'s HTML.

Named `course`, not `nbgrader`, so that it can never shadow the nbgrader package itself.
"""
