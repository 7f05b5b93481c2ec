//go:build !crashpoints

package payments

// crashPoint marks a moment the crash test kills the process at; in a normal build it does
// nothing (see crashpoint_on.go).
func crashPoint(string) {}
