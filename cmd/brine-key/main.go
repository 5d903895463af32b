// Command brine-key manages the master's minion keys, as salt-key does.
//
// Exit status: 0 on success, 1 on an error, 2 on bad usage.
package main

import (
	"context"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/version"
)

func main() {
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine-key",
		Usage:                 "manage the master's minion keys (like salt-key)",
		UsageText:             "brine-key [options]",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "Lists, accepts, rejects and deletes the keys of the minions that asked this host's\n" +
			"master to accept them, prints their fingerprints, and makes key pairs (--gen-keys).\n\n" +
			"Exit status: 0 on success, 1 on an error, 2 on bad usage.",
		Flags: []cli.Flag{
			cliutil.ConfigDirFlag(),
			cliutil.LogLevelFlag(false),
			&cli.BoolFlag{Name: "list-all", Aliases: []string{"L"}, Usage: "list every key"},
			&cli.StringFlag{Name: "list", Aliases: []string{"l"}, Usage: "list the keys in `STATE`: pre, un, unaccepted, acc, accepted, rej, rejected, den, denied, all"},
			&cli.StringFlag{Name: "accept", Aliases: []string{"a"}, Usage: "accept the pending keys matching `GLOB`"},
			&cli.BoolFlag{Name: "accept-all", Aliases: []string{"A"}, Usage: "accept every pending key"},
			&cli.StringFlag{Name: "reject", Aliases: []string{"r"}, Usage: "reject the pending keys matching `GLOB`"},
			&cli.BoolFlag{Name: "reject-all", Aliases: []string{"R"}, Usage: "reject every pending key"},
			&cli.StringFlag{Name: "delete", Aliases: []string{"d"}, Usage: "delete the keys matching `GLOB`, in any state"},
			&cli.BoolFlag{Name: "delete-all", Aliases: []string{"D"}, Usage: "delete every key"},
			&cli.StringFlag{Name: "finger", Aliases: []string{"f"}, Usage: "print the fingerprints of the keys matching `GLOB`"},
			&cli.BoolFlag{Name: "finger-all", Aliases: []string{"F"}, Usage: "print every key's fingerprint, the master's included"},
			&cli.StringFlag{Name: "print", Aliases: []string{"p"}, Usage: "print the keys matching `GLOB`"},
			&cli.BoolFlag{Name: "print-all", Aliases: []string{"P"}, Usage: "print every key"},
			&cli.BoolFlag{Name: "include-rejected", Usage: "-a/-A also accept rejected keys"},
			&cli.BoolFlag{Name: "include-denied", Usage: "-a/-A and -r/-R also act on denied keys"},
			&cli.BoolFlag{Name: "include-accepted", Usage: "-r/-R also reject accepted keys"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "answer yes to every question"},
			&cli.StringFlag{Name: "gen-keys", Usage: "write a new key pair `NAME`.pem/NAME.pub (into --gen-keys-dir)"},
			&cli.StringFlag{Name: "gen-keys-dir", Value: ".", Usage: "--gen-keys writes into `DIR`"},
			&cli.IntFlag{Name: "keysize", Value: 2048, Usage: "--gen-keys makes keys of `BITS` bits"},
			&cli.StringFlag{Name: "hash-type", Usage: "fingerprints with `HASH`: md5, sha1, sha224, sha256, sha384 or sha512 (default: the config's hash_type, sha256)"},
			&cli.StringFlag{Name: "out", Value: "txt", Usage: "output `FORMAT`: txt, json or yaml"},
		},
		Action: func(c *cli.Context) error {
			opts, err := optionsFrom(c)
			if err != nil {
				return err
			}
			return runKey(c.Context, opts, stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
		},
	}
	if err := app.RunContext(context.Background(), os.Args); err != nil {
		code := 1
		if isUsage(err) {
			code = 2
		}
		cliutil.Exit("brine-key", err, code)
	}
}
