"""Registers `pytest --threadkit SUBMISSION` (graders/learner/pytest_plugin.py) here.

A conftest.py at the top of the folder is what plain `pytest` loads from a fresh clone and from
a learner's release alike (no packaging, no `-p` option to remember).
"""

pytest_plugins = ["graders.learner.pytest_plugin"]
