package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// usageError is bad usage: the process exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env reads GATEHOUSE_* variables.
type env func(string) string

// io bundles the standard streams a command uses.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

const usage = `usage: gatehouse <command> [flags]

commands:
  serve                       run the server
  demo                        run the server with the demo shop beside it, on one loopback address
  migrate                     bring the schema up to date
  user add|list|disable|enable|roles|recover|mfa reset
  sessions list|revoke
  keys rotate|list            signing keys of access tokens
  clients add|list|remove     OpenID Connect clients
  version                     print the version
run "gatehouse <command> -h" for its flags`

// run is the whole program; main only adds the process around it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	std := stdio{in: stdin, out: stdout, err: stderr}
	if len(args) == 0 {
		return usagef("%s", usage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, env(getenv), std)
	case "demo":
		return demo(ctx, rest, env(getenv), std)
	case "migrate":
		return migrate(ctx, rest, env(getenv), std)
	case "user":
		return userCmd(ctx, rest, env(getenv), std)
	case "sessions":
		return sessionsCmd(ctx, rest, env(getenv), std)
	case "keys":
		return keysCmd(ctx, rest, env(getenv), std)
	case "clients":
		return clientsCmd(ctx, rest, env(getenv), std)
	case "version":
		fmt.Fprintln(stdout, "gatehouse", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return usagef("unknown command %q\n%s", cmd, usage)
	}
}

// version is set at build time with -ldflags "-X main.buildVersion=v1.2.3";
// otherwise the module version from the build info is used.
var buildVersion string

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// parse reads flags and positional arguments in any order, then fills
// every flag not given on the command line from GATEHOUSE_<FLAG>.
func parse(fs *flag.FlagSet, args []string, getenv env) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("%s", flagUsage(fs))
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = usagef("%s: %v", name, e)
			}
		}
	})
	return positional, err
}

func flagUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage of %s:\n", fs.Name())
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return strings.TrimRight(b.String(), "\n")
}

// listFlag is a flag that may be repeated or given comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// shown is free text as the CLI prints it: as it is when it is plain
// text, else quoted with Go escapes, so that what a client stored (a
// device name, a user agent) can never move an admin's cursor, recolour
// their terminal or hide in a table.
func shown(s string) string {
	if gatehouse.CheckText("", s, len(s)) == nil {
		return s
	}
	return strconv.Quote(s)
}
