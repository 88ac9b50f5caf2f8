#!/usr/bin/env bash
# Creates (or reuses) .venv with the Python peers the interop tests talk to:
# pyzmq 26, txZMQ 1.0 with Twisted, and majortomo 0.2 (MDP/0.2; it imports
# six without declaring it), from PyPI. Prints the interpreter path.
#
#   export ZMQX_PYTHON="$(.ci/python-env.sh)"
#
# Interop tests read ZMQX_PYTHON. When it is unset they skip with a message,
# except under CI (CI=true), where a missing interpreter fails them.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
want="pyzmq==26.0.2 txZMQ==1.0.0 Twisted majortomo==0.2.0 six"
if ! "$venv/bin/python" -c 'import zmq, txzmq, twisted, majortomo.broker, majortomo.client, majortomo.worker; assert zmq.__version__ == "26.0.2"' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
fi
echo "$PWD/$venv/bin/python"
