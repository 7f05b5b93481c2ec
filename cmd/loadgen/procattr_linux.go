package main

import "syscall"

// childAttr makes a child process receive SIGKILL when this process dies, so the processes a
// fault scenario started never outlive an interrupted or killed run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
