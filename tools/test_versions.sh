#!/usr/bin/env bash
# The installed-wheel checks (tests/installed) on every supported Python this machine has:
# for each version, a fresh venv of that interpreter gets the wheel and its dependencies
# from the package index (pip's cache makes repeats fast), and the checks run against it.
# A version that is not installed is skipped with a message; any failure fails the whole.
# Usage: tools/test_versions.sh [VERSION ...]   (default: every version requires-python allows)
set -uo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.11 3.12 3.13)

find_python() {  # the newest pyenv build of $1, else python$1 on the PATH if it runs
    local root candidate
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    candidate=$(ls -d "$root"/versions/"$1".*/bin/python"$1" 2>/dev/null | sort -V | tail -n 1)
    [ -n "$candidate" ] || candidate=$(command -v "python$1" || true)
    if [ -n "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
        echo "$candidate"
    fi
}

status=0
summary=()
for version in "${versions[@]}"; do
    python=$(find_python "$version")
    if [ -z "$python" ]; then
        echo "test-versions: Python $version is not installed here (pyenv install $version); skipped"
        summary+=("$version skipped (not installed)")
        continue
    fi
    echo "test-versions: Python $version ($python)"
    start=$(date +%s)
    # The first install of a version downloads its dependencies: more than the suite's
    # 180 s hang alarm (faulthandler_timeout), which would only print stacks.
    if LAGSCOPE_TEST_PYTHON="$python" .venv/bin/python -m pytest tests/installed -q \
        -o faulthandler_timeout=1200; then
        result=passed
    else
        result=FAILED
        status=1
    fi
    summary+=("$version ($("$python" -c 'import platform; print(platform.python_version())')) $result in $(($(date +%s) - start)) s")
done
printf 'test-versions: %s\n' "${summary[@]}"
exit $status
