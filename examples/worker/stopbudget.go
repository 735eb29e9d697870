package main

import (
	"fmt"
	"os"

	"github.com/sqsdispatch/go-sqsdispatch/examples/worker/workerenv"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// printStopBudget prints the stop budget of the configuration that the
// environment gives: what a supervisor's grace period must cover.
func printStopBudget() error {
	cfg, err := workerenv.Apply(sqsdispatch.Config{}, os.Getenv)
	if err != nil {
		return err
	}
	fmt.Println(cfg.StopBudget())
	return nil
}
