package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/token"
)

// tokenOptions are the flags of token mode.
type tokenOptions struct {
	audience, alg, secretFile string
	access, refresh, grace    time.Duration
}

func tokenFlags(fs *flag.FlagSet) *tokenOptions {
	o := &tokenOptions{}
	fs.StringVar(&o.audience, "audience", gatehouse.DefaultAudience, `"aud" of access tokens`)
	fs.StringVar(&o.alg, "jwt-alg", token.EdDSA, "signing algorithm of access tokens: EdDSA, ES256 or RS256")
	fs.StringVar(&o.secretFile, "secret-file", "", "file holding the secret that seals signing keys (default <db>.secret for SQLite; or GATEHOUSE_SECRET)")
	fs.DurationVar(&o.access, "access-ttl", gatehouse.DefaultAccessTTL, "lifetime of an access token")
	fs.DurationVar(&o.refresh, "refresh-ttl", gatehouse.DefaultRefreshTTL, "lifetime of a token login and its refresh tokens")
	fs.DurationVar(&o.grace, "refresh-grace", gatehouse.DefaultRefreshGrace, "how long a just-retired refresh token still gets its successor (0: off)")
	return o
}

// config returns the token configuration, reading the deployment secret.
func (o *tokenOptions) config(getenv env, db, issuer string, log *slog.Logger) (*gatehouse.TokenConfig, error) {
	if o.access <= 0 || o.refresh <= 0 || o.grace < 0 {
		return nil, usagef("--access-ttl and --refresh-ttl must be positive, --refresh-grace not negative")
	}
	secret, err := loadSecret(getenv, o.secretFile, db, log)
	if err != nil {
		return nil, err
	}
	return &gatehouse.TokenConfig{
		Issuer: issuer, Audience: o.audience, Alg: o.alg, Secret: secret,
		AccessTTL: o.access, RefreshTTL: o.refresh, RefreshGrace: o.grace,
	}, nil
}

func keysCmd(ctx context.Context, args []string, getenv env, std stdio) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list") {
		return usagef("usage: gatehouse keys rotate|list")
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	tok := tokenFlags(fs)
	if err := parseNoArgs(fs, args[1:], getenv); err != nil {
		return err
	}
	cfg, err := tok.config(getenv, *db, "cli", nil)
	if err != nil {
		return err
	}
	return withService(ctx, *db, gatehouse.Config{Tokens: cfg}, func(svc *gatehouse.Service) error {
		if args[0] == "rotate" {
			k, err := svc.RotateKeys(ctx, cliClient)
			if err != nil {
				return err
			}
			fmt.Fprintf(std.out, "new active key %s (%s); running servers use it within a few seconds\n", k.ID, k.Alg)
			return nil
		}
		keys, err := svc.Keys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tALG\tCREATED\tSTATUS")
		for _, k := range keys {
			status := "active"
			if !k.Active {
				status = "verifies until " + k.VerifiesUntil.Format(timeFormat)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Alg, k.CreatedAt.Format(timeFormat), status)
		}
		return tw.Flush()
	})
}
