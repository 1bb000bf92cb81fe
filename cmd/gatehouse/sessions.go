package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse"
)

func sessionsCmd(ctx context.Context, args []string, getenv env, std stdio) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "revoke") {
		return usagef("usage: gatehouse sessions list|revoke --email E")
	}
	fs := flag.NewFlagSet("sessions "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	email := fs.String("email", "", "the user's email address")
	if err := parseNoArgs(fs, args[1:], getenv); err != nil {
		return err
	}
	if *email == "" {
		return usagef("usage: gatehouse sessions %s --email E", args[0])
	}
	return withUser(ctx, *db, *email, gatehouse.Config{}, func(svc *gatehouse.Service, u gatehouse.User) error {
		if args[0] == "revoke" {
			n, err := svc.RevokeUserSessions(ctx, u.ID, cliClient)
			if err != nil {
				return err
			}
			fmt.Fprintf(std.out, "revoked %d sessions of %s\n", n, u.Email)
			return nil
		}
		logins, err := svc.UserSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tMODE\tDEVICE\tIP\tCREATED\tLAST SEEN\tEXPIRES")
		for _, l := range logins {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Mode, shown(l.Device), shown(l.IP),
				l.CreatedAt.Format(timeFormat), l.LastSeenAt.Format(timeFormat), l.ExpiresAt.Format(timeFormat))
		}
		return tw.Flush()
	})
}

const timeFormat = "2006-01-02T15:04:05Z"
