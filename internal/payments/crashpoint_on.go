//go:build crashpoints

package payments

import (
	"os"
	"syscall"
)

// crashPoint kills the process with SIGKILL, as `kill -9` would, when GATEWAY_CRASHPOINT names
// this moment. It exists only in binaries built with -tags crashpoints, which the crash test
// builds to kill the gateway exactly between a callback's receipt and its acknowledgement:
// before_settle (nothing stored yet) and after_settle (the transition and its event stored,
// the provider not yet answered).
func crashPoint(name string) {
	if os.Getenv("GATEWAY_CRASHPOINT") == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
