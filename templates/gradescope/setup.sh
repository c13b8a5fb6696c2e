#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (default base image:
# Ubuntu 22.04, whose python3 is 3.10; it is left alone: the kit gets a venv of its own). The
# zip (`make gradescope`) is unpacked in /autograder/source.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends python3 python3-venv make
# Optional: bubblewrap is the strongest isolation level, where the image allows it.
apt-get install -y --no-install-recommends bubblewrap || echo "bubblewrap not installed: fine"

# The user the learners' code runs as (run_autograder's AUTOGRADER_USER): no home, no shell,
# nothing it may write outside each task's own work folder.
id -u threadkit >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin threadkit

cd /autograder/source
make .venv/.learner-installed PYTHON=/usr/bin/python3
.venv/bin/python -m compileall -q graders
# Readable (never writable) by that user: it imports the checks, root writes the results.
chmod -R u+rwX,go+rX-w /autograder/source
chmod go+x /autograder
