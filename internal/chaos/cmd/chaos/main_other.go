//go:build !linux

// Command chaos runs sqsdispatch's chaos test; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "chaos: Linux only")
	os.Exit(2)
}
