#!/usr/bin/env bash
# mypy cannot follow setuptools' package-dir mapping (lagscope.harness <- harness/, ...), so
# it checks a tree of symbolic links laid out as the installed package: build/typecheck/lagscope.
# Errors name paths in that tree; each is the file of the same name in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/typecheck
rm -rf "$tree"
mkdir -p "$tree/lagscope"
for file in lagscope/*.py; do ln -s "$PWD/$file" "$tree/lagscope/"; done
for folder in harness reports scenarios target_apps; do ln -s "$PWD/$folder" "$tree/lagscope/$folder"; done
cd "$tree"
exec "${MYPY:-mypy}" --config-file ../../pyproject.toml lagscope/*.py lagscope/harness lagscope/reports "$@"
