#!/bin/sh
# Registers the Temporal namespace and the custom search attributes this app
# writes (OrderStatus, CustomerId) on a real Temporal server, idempotently:
# safe to run on every start. The dev server (`npm start`) gets the same
# attributes from `--search-attribute` flags instead.
#
# Needs only the `temporal` CLI and sh, so the same script serves
#   - `npm run start:prod-like` (through temporal-config/namespace.ts),
#   - docker compose's temporal-admin-tools container,
#   - an operator against a self-hosted cluster.
# (Temporal Cloud: namespaces are created in the Cloud UI / tcld / Terraform,
# search attributes with `tcld namespace search-attributes add`.)
#
# Usage:
#   TEMPORAL_ADDRESS=host:7233 [TEMPORAL_NAMESPACE=default] [TEMPORAL_NAMESPACE_RETENTION=72h] \
#   [TEMPORAL_CLI=temporal] temporal-config/setup-namespace.sh [Name=Type ...]
# Without arguments it registers the attributes below; keep that list in step
# with temporal-config/place-order.ts (tests/e2e/prod-like.test.ts checks).
set -eu

cli="${TEMPORAL_CLI:-temporal}"
namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_NAMESPACE_RETENTION:-72h}"
[ "$#" -gt 0 ] || set -- OrderStatus=Keyword CustomerId=Keyword

if "$cli" operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  echo "namespace $namespace: exists"
else
  "$cli" operator namespace create --namespace "$namespace" --retention "$retention"
  echo "namespace $namespace: created (retention $retention)"
fi

existing="$("$cli" operator search-attribute list --namespace "$namespace" -o json)"
for definition in "$@"; do
  name="${definition%%=*}"
  type="${definition#*=}"
  if printf '%s' "$existing" | grep -q "\"$name\""; then
    echo "search attribute $name: exists"
  else
    "$cli" operator search-attribute create --namespace "$namespace" --name "$name" --type "$type"
    echo "search attribute $name ($type): created"
  fi
done
