package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain runs the command itself when GATEWAY_MAIN_ARGS is set, so that a test can run it in
// a child process with its own flags and exit status.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("GATEWAY_MAIN_ARGS"); ok {
		os.Args = append([]string{"gateway"}, strings.Fields(args)...)
		flag.CommandLine = flag.NewFlagSet("gateway", flag.ExitOnError)
		os.Exit(run())
	}
	os.Exit(m.Run())
}

func runGateway(t *testing.T, args string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GATEWAY_MAIN_ARGS="+args)
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

func TestRoleFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args string
		env  []string
		code int
		want string
	}{
		{"-check-config -role api", nil, 0, "configuration is valid"},
		{"-check-config -role all", []string{"GATEWAY_ROLE=worker"}, 0, "configuration is valid"}, // the flag wins
		{"-check-config", []string{"GATEWAY_ROLE=api"}, 0, "configuration is valid"},
		{"-check-config -role nope", nil, 2, `role: "nope" is not one of all, api, worker`},
		// The dev profile's sandboxes live on the API listener, which a worker does not serve.
		{"-check-config -role worker", nil, 2, "role: worker does not serve the API listener"},
	} {
		code, out := runGateway(t, tc.args, tc.env...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("gateway %s (%v): exit %d, output:\n%s\nwant exit %d and %q", tc.args, tc.env, code, out, tc.code, tc.want)
		}
	}
}
