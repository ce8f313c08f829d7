#!/usr/bin/env bash
# `make audit`: known vulnerabilities in the pinned dependencies (docs/SECURITY.md, "Dependency
# audit"). Needs the vulnerability databases (PyPI's advisory data through pip-audit, the npm
# registry's audit endpoint), so it is NOT part of the offline `make test`.
#   Python: pip-audit (pinned below, installed into the venv on demand) over every distribution
#           installed in the venv: the pins of pyproject.toml and what they pulled in.
#   npm:    `npm audit` over every package-lock.json of the project (web/, tests/oidc_op/, ...).
# Every audit runs; the exit status is non-zero if any found something or could not run.
set -u
VENV=${1:-.venv}
PIP_AUDIT_VERSION=2.10.1
status=0

if ! "$VENV/bin/pip-audit" --version 2>/dev/null | grep -q " $PIP_AUDIT_VERSION\$"; then
    "$VENV/bin/pip" install --quiet "pip-audit==$PIP_AUDIT_VERSION" || exit 3
fi
echo "== pip-audit $PIP_AUDIT_VERSION: the Python distributions of $VENV"
# --skip-editable: CityOps itself is not on PyPI (its name would match another project's);
# --strict: a distribution that could not be looked up fails the audit instead of passing it.
"$VENV/bin/pip-audit" --strict --skip-editable --progress-spinner off --desc on \
    --path "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    || status=1

while IFS= read -r lock; do
    dir=$(dirname "$lock")
    echo "== npm audit: $dir"
    (cd "$dir" && npm audit --audit-level=low) || status=1
done < <(git ls-files '*package-lock.json' | grep -v node_modules)

if [ "$status" -ne 0 ]; then
    echo "make audit: something was found, or an audit could not reach its database (above)" >&2
fi
exit "$status"
