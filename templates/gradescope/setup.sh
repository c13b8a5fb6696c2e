#!/usr/bin/env bash
# Gradescope autograder set-up (runs once, as root, when the autograder image is built).
# Zip this file and run_autograder together with the whole kit (instructor copy, hidden
# checks included, without .venv): Gradescope unpacks the zip into /autograder/source.
set -euo pipefail
apt-get install -y python3 python3-venv make
apt-get install -y bubblewrap || true  # optional: the strongest isolation, where it works
cd /autograder/source
make .venv/.learner-installed
