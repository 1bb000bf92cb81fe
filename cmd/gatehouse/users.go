package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
)

// cliClient marks audit events made from the command line.
var cliClient = gatehouse.Client{IP: "cli"}

func userCmd(ctx context.Context, args []string, getenv env, std stdio) error {
	if len(args) == 0 {
		return usagef("usage: gatehouse user add|list|disable|enable|roles|recover|mfa")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	rolesFile := rolesFlag(fs)
	switch args[0] {
	case "add":
		email := fs.String("email", "", "email address of the new user")
		var roles listFlag
		fs.Var(&roles, "role", "role to give (repeatable; default: customer)")
		pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
		if err := parseNoArgs(fs, args[1:], getenv); err != nil {
			return err
		}
		if *email == "" || !*pwStdin {
			return usagef("usage: gatehouse user add --email E [--role R]... --password-stdin")
		}
		pw, err := readPassword(std)
		if err != nil {
			return err
		}
		if len(roles) == 0 {
			roles = listFlag{gatehouse.RoleCustomer}
		}
		defs, err := loadRoles(*rolesFile)
		if err != nil {
			return err
		}
		return withService(ctx, *db, gatehouse.Config{Roles: defs}, func(svc *gatehouse.Service) error {
			u, err := svc.CreateUser(ctx, *email, pw, roles, cliClient)
			if err != nil {
				return err
			}
			fmt.Fprintf(std.out, "created user %s (%s) with roles %s\n", u.Email, u.ID, strings.Join(u.Roles, ","))
			return nil
		})
	case "list":
		if err := parseNoArgs(fs, args[1:], getenv); err != nil {
			return err
		}
		return withService(ctx, *db, gatehouse.Config{}, func(svc *gatehouse.Service) error { return listUsers(ctx, svc, std) })
	case "disable", "enable":
		email, err := parseOneArg(fs, args[1:], getenv, "E")
		if err != nil {
			return err
		}
		disabled := args[0] == "disable"
		return withUser(ctx, *db, email, gatehouse.Config{}, func(svc *gatehouse.Service, u gatehouse.User) error {
			if _, err := svc.SetDisabled(ctx, u.ID, disabled, cliClient); err != nil {
				return err
			}
			fmt.Fprintf(std.out, "%sd %s\n", args[0], u.Email)
			return nil
		})
	case "roles":
		var set listFlag
		fs.Var(&set, "set", "comma-separated roles that replace the user's")
		email, err := parseOneArg(fs, args[1:], getenv, "E --set a,b")
		if err != nil {
			return err
		}
		if len(set) == 0 {
			return usagef("usage: gatehouse user roles E --set a,b")
		}
		defs, err := loadRoles(*rolesFile)
		if err != nil {
			return err
		}
		return withUser(ctx, *db, email, gatehouse.Config{Roles: defs}, func(svc *gatehouse.Service, u gatehouse.User) error {
			u, err := svc.SetRoles(ctx, u.ID, set, cliClient)
			if err != nil {
				return err
			}
			fmt.Fprintf(std.out, "%s now has roles %s\n", u.Email, strings.Join(u.Roles, ","))
			return nil
		})
	case "recover":
		issuer := fs.String("issuer", "", "public base URL of Gatehouse, as serve takes it; the link points there")
		fs.String("secret-file", "", "accepted as serve takes it; a link made here is not sealed, so it needs no secret")
		email, err := parseOneArg(fs, args[1:], getenv, "E --issuer URL")
		if err != nil {
			return err
		}
		if *issuer == "" {
			return usagef("usage: gatehouse user recover E --issuer URL")
		}
		return withUser(ctx, *db, email, gatehouse.Config{PublicURL: *issuer}, func(svc *gatehouse.Service, u gatehouse.User) error {
			link, err := svc.RecoveryLink(ctx, u.Email, cliClient)
			if err != nil {
				return err
			}
			// The link is a secret: standard output only, never the log.
			fmt.Fprintln(std.out, link)
			return nil
		})
	case "mfa":
		if len(args) < 2 || args[1] != "reset" {
			return usagef("usage: gatehouse user mfa reset E")
		}
		email, err := parseOneArg(fs, args[2:], getenv, "E")
		if err != nil {
			return err
		}
		return withUser(ctx, *db, email, gatehouse.Config{}, func(svc *gatehouse.Service, u gatehouse.User) error {
			if err := svc.ResetFactors(ctx, u.ID, cliClient); err != nil {
				return err
			}
			fmt.Fprintf(std.out, "removed the second factors of %s\n", u.Email)
			return nil
		})
	default:
		return usagef("unknown command \"user %s\"; want add, list, disable, enable, roles, recover or mfa", args[0])
	}
}

func listUsers(ctx context.Context, svc *gatehouse.Service, std stdio) error {
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tROLES\tDISABLED\tCREATED")
	q := gatehouse.UserQuery{Limit: 500}
	for {
		users, next, err := svc.ListUsers(ctx, q)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", u.ID, u.Email, strings.Join(u.Roles, ","), u.Disabled, u.CreatedAt.Format(timeFormat))
		}
		if next == "" {
			return tw.Flush()
		}
		q.After = next
	}
}

// readPassword reads one line from standard input.
func readPassword(std stdio) (string, error) {
	sc := bufio.NewScanner(std.in)
	sc.Buffer(make([]byte, 0, 4096), password.MaxLength+2)
	if !sc.Scan() {
		if sc.Err() != nil {
			return "", fmt.Errorf("reading the password from standard input: the password must be at most %d bytes", password.MaxLength)
		}
		return "", fmt.Errorf("no password on standard input")
	}
	return strings.TrimRight(sc.Text(), "\r"), nil
}

func parseNoArgs(fs *flag.FlagSet, args []string, getenv env) error {
	pos, err := parse(fs, args, getenv)
	if err == nil && len(pos) > 0 {
		err = usagef("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	return err
}

func parseOneArg(fs *flag.FlagSet, args []string, getenv env, want string) (string, error) {
	pos, err := parse(fs, args, getenv)
	if err == nil && len(pos) != 1 {
		err = usagef("usage: gatehouse %s %s", fs.Name(), want)
	}
	if err != nil {
		return "", err
	}
	return pos[0], nil
}

// withService opens the store, runs f with a Service over it, and closes it.
// It does not warn about a database file open to others (serve and migrate
// do).
func withService(ctx context.Context, db string, cfg gatehouse.Config, f func(*gatehouse.Service) error) error {
	st, err := openStore(ctx, db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := gatehouse.NewService(st, cfg)
	if err != nil {
		return err
	}
	return f(svc)
}

// withUser is withService for a command about one user, found by email.
func withUser(ctx context.Context, db, email string, cfg gatehouse.Config, f func(*gatehouse.Service, gatehouse.User) error) error {
	return withService(ctx, db, cfg, func(svc *gatehouse.Service) error {
		u, err := svc.UserByEmail(ctx, email)
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
			return fmt.Errorf("no user with email %s", email)
		}
		if err != nil {
			return err
		}
		return f(svc, u)
	})
}
