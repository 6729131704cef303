#!/usr/bin/env bash
# Lint the CloudFormation template: cfn-lint (from the project venv) and checkov (from its own venv).
# checkov's dependencies conflict with the project's, so it lives in .venv-infra, pinned below;
# a second run skips the install when that venv already has the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION="3.3.30"
TEMPLATE="${1:-infra/lakehouse.yaml}"
VENV=".venv-infra"
CFN_LINT=".venv/bin/cfn-lint"
PYTHON="${PYTHON_INFRA:-$(command -v python3.11 || command -v python3)}"

installed_checkov() {
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true
}

if [ "$(installed_checkov)" != "$CHECKOV_VERSION" ]; then
  echo "lint-infra: installing checkov==$CHECKOV_VERSION into $VENV" >&2
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" \
      >"$VENV/pip-install.log" 2>&1; then
    cat "$VENV/pip-install.log" >&2
    echo "lint-infra: installing checkov failed" >&2
    exit 2
  fi
fi

if [ ! -x "$CFN_LINT" ]; then
  echo "lint-infra: $CFN_LINT not found; run 'make install' first" >&2
  exit 2
fi

status=0
echo "== cfn-lint $TEMPLATE"
if "$CFN_LINT" "$TEMPLATE"; then
  echo "cfn-lint: no findings"
else
  status=1
fi

echo "== checkov $CHECKOV_VERSION $TEMPLATE"
# --skip-download: no calls to the Prisma Cloud API (unreachable offline; only doc links come from it).
if ! "$VENV/bin/checkov" -f "$TEMPLATE" --framework cloudformation --quiet --compact --skip-download; then
  status=1
fi

exit "$status"
