package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse"
)

// clientsCmd manages OpenID Connect clients (gatehouse.App).
func clientsCmd(ctx context.Context, args []string, getenv env, std stdio) error {
	if len(args) == 0 {
		return usagef("usage: gatehouse clients add|list|remove")
	}
	fs := flag.NewFlagSet("clients "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	switch args[0] {
	case "add":
		name := fs.String("name", "", "the client's name, shown to users")
		var redirect, logout uriFlag
		fs.Var(&redirect, "redirect-uri", "a redirect URI, matched exactly (repeatable; at least one)")
		fs.Var(&logout, "post-logout-uri", "where logout may send the browser back (repeatable)")
		public := fs.Bool("public", false, "a public client (native or single-page app): no secret, PKCE required")
		trusted := fs.Bool("trusted", false, "a trusted client: its users are not asked for consent")
		if err := parseNoArgs(fs, args[1:], getenv); err != nil {
			return err
		}
		if *name == "" || len(redirect) == 0 {
			return usagef("usage: gatehouse clients add --name N --redirect-uri U [--redirect-uri U]... [--post-logout-uri U]... [--public] [--trusted]")
		}
		spec := gatehouse.AppSpec{Name: *name, RedirectURIs: redirect, PostLogoutURIs: logout, Public: *public, Trusted: *trusted}
		return withService(ctx, *db, gatehouse.Config{}, func(svc *gatehouse.Service) error {
			a, secret, err := svc.AddApp(ctx, spec, cliClient)
			if err != nil {
				return err
			}
			kind := "confidential"
			if a.Public {
				kind = "public"
			}
			fmt.Fprintf(std.out, "created %s client %s\n", kind, shown(a.Name))
			fmt.Fprintf(std.out, "client_id:     %s\n", a.ID)
			if secret != "" {
				// The secret is shown here once: standard output only,
				// never the log, and it is stored only hashed.
				fmt.Fprintf(std.out, "client_secret: %s\n", secret)
				fmt.Fprintln(std.out, "keep the secret now: it will not be shown again")
			}
			return nil
		})
	case "list":
		if err := parseNoArgs(fs, args[1:], getenv); err != nil {
			return err
		}
		return withService(ctx, *db, gatehouse.Config{}, func(svc *gatehouse.Service) error {
			apps, err := svc.Apps(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tTRUSTED\tREDIRECT URIS\tPOST-LOGOUT URIS\tCREATED")
			for _, a := range apps {
				kind := "confidential"
				if a.Public {
					kind = "public"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\t%s\n", a.ID, shown(a.Name), kind, a.Trusted,
					shownList(a.RedirectURIs), shownList(a.PostLogoutURIs), a.CreatedAt.Format(timeFormat))
			}
			return tw.Flush()
		})
	case "remove":
		id, err := parseOneArg(fs, args[1:], getenv, "ID")
		if err != nil {
			return err
		}
		return withService(ctx, *db, gatehouse.Config{}, func(svc *gatehouse.Service) error {
			if err := svc.RemoveApp(ctx, id, cliClient); err != nil {
				return err
			}
			fmt.Fprintf(std.out, "removed client %s and ended its logins\n", id)
			return nil
		})
	default:
		return usagef("unknown command \"clients %s\"; want add, list or remove", args[0])
	}
}

// uriFlag is a flag that may be repeated, one URI each time: unlike
// listFlag, it does not split at commas, which a URI may hold.
type uriFlag []string

func (l *uriFlag) String() string { return strings.Join(*l, " ") }

func (l *uriFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// shownList is a list of free text as the CLI prints it: comma-separated,
// or "-" when empty.
func shownList(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = shown(s)
	}
	return strings.Join(out, ",")
}
