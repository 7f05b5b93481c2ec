// Package api holds the gateway's public HTTP contract as an OpenAPI 3.0.3 document: the API
// listener (one-stop system and partner callbacks) and the admin listener (health, metrics and
// operations endpoints). The document is embedded so that tests and tools read the same bytes
// that are committed; operations the server does not serve yet carry `x-implemented: false`.
package api

import _ "embed"

// Spec is the OpenAPI 3.0.3 document (YAML) describing every endpoint of both listeners.
//
//go:embed openapi.yaml
var Spec []byte
