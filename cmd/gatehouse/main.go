// Command gatehouse is the Gatehouse sign-in server and its administration
// CLI. Run "gatehouse <command> -h" for a command's flags; docs/api.md in
// the repository describes every command, flag and GATEHOUSE_* variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatehouse/gatehouse/redis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hashSlots = doubleProcs()
	redis.QuietDriverLog()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse: "+err.Error())
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
