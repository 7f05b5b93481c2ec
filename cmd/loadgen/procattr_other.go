//go:build !linux

package main

import "syscall"

// childAttr has nothing to add where the system cannot tie a child's life to its parent's; the
// run still stops every process it started when it ends or is interrupted.
func childAttr() *syscall.SysProcAttr { return nil }
