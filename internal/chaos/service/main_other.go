//go:build !linux

// Command service is the chaos test's service; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "chaos service: Linux only")
	os.Exit(2)
}
