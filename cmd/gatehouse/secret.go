package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// minSecretBytes is the least the deployment secret may hold.
const minSecretBytes = 32

// loadSecret returns the deployment secret that seals signing keys:
// GATEHOUSE_SECRET itself, else the file --secret-file names, else (for a
// SQLite store) <db>.secret, created with mode 0600 on first use.
func loadSecret(getenv env, secretFile, db string, log *slog.Logger) ([]byte, error) {
	if s := getenv("GATEHOUSE_SECRET"); s != "" {
		return checkSecret([]byte(s), "GATEHOUSE_SECRET")
	}
	if secretFile != "" {
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return nil, fmt.Errorf("--secret-file: %w", err)
		}
		return checkSecret(b, secretFile)
	}
	if isPostgres(db) {
		return nil, errors.New("a PostgreSQL store needs --secret-file or GATEHOUSE_SECRET, the same on every server")
	}
	path := db + ".secret"
	b, err := os.ReadFile(path)
	if err == nil {
		return checkSecret(b, path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	secret := []byte(rand.Text() + rand.Text()) // 2 × 128 bits of base32
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		return loadSecret(getenv, path, db, log)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the secret file: %w", err)
	}
	if _, err := f.Write(append(secret, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the secret file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing the secret file: %w", err)
	}
	if log != nil {
		log.Warn("created a new secret file for sealing signing keys; back it up with the database", "path", path)
	}
	return secret, nil
}

func checkSecret(b []byte, from string) ([]byte, error) {
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < minSecretBytes {
		return nil, fmt.Errorf("the secret in %s must be at least %d bytes of random text", from, minSecretBytes)
	}
	return b, nil
}
