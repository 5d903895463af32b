// Command brine-cp copies local files to the targeted minions, as salt-cp
// does:
//
//	brine-cp [options] '<target>' SOURCE [SOURCE...] DEST
//
// Each file goes in chunks (cp.recv_chunked on the minions: gzipped,
// base64, in order), so files of any size copy with bounded memory. With
// one source DEST is the file's path on the minions; with several it is a
// directory. It must run on the master host. Exit status: 0 when every
// minion took every chunk, 1 otherwise, 2 on an error.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/brine-project/brine/client"
	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/internal/output"
	"github.com/brine-project/brine/internal/version"
)

// chunkSize is Salt's salt_cp_chunk_size.
const chunkSize = 98304

func main() {
	cli.VersionPrinter = cliutil.PrintVersion
	app := &cli.App{
		Name:                  "brine-cp",
		Usage:                 "copy local files to the targeted minions (like salt-cp)",
		UsageText:             "brine-cp [options] '<target>' SOURCE [SOURCE...] DEST",
		Version:               version.String(),
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cliutil.HelpTemplate,
		Description: "Copies local files to the minions the target matches, through the master on this host,\n" +
			"in chunks, so that files of any size copy with bounded memory. With one SOURCE, DEST is\n" +
			"the file's path on the minions; with several it is a directory.\n\n" +
			"Exit status: 0 when every minion took every chunk, 1 otherwise, 2 on an error.",
		Flags: append(cliutil.TargetFlags(),
			cliutil.ConfigDirFlag(),
			cliutil.LogLevelFlag(true),
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: 5, Usage: "wait `SECONDS` for the minions to take each chunk"},
			&cli.BoolFlag{Name: "no-compression", Usage: "send chunks uncompressed"},
			&cli.StringFlag{Name: "out", Usage: "output `FORMAT`: nested (default), json, yaml, txt, raw or quiet"},
		),
		Action: func(c *cli.Context) error {
			code, err := runCp(c.Context, c)
			if err != nil {
				return err
			}
			if code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		if ec, ok := err.(cli.ExitCoder); ok && ec.Error() == "" {
			os.Exit(ec.ExitCode())
		}
		cliutil.Exit("brine-cp", err, 2)
	}
}

func runCp(ctx context.Context, c *cli.Context) (int, error) {
	tgtType, err := cliutil.TargetType(c)
	if err != nil {
		return 2, err
	}
	if c.NArg() < 3 {
		return 2, cliutil.Hint(errors.New("need a target, a source and a destination"), "brine-cp '*' ./motd /etc/motd")
	}
	args := c.Args().Slice()
	tgt, sources, dest := args[0], args[1:len(args)-1], args[len(args)-1]
	if !path.IsAbs(dest) {
		return 2, fmt.Errorf("the destination %q must be an absolute path on the minions", dest)
	}
	cfg, warns, err := config.LoadMaster(c.String("config-dir"))
	if err != nil {
		return 2, err
	}
	if _, err := cliutil.ToolLogger(os.Stderr, c.String("log-level"), cfg.Logging, warns); err != nil {
		return 2, err
	}
	out, err := output.ForReturn(c.String("out"), "", output.Options{})
	if err != nil {
		return 2, err
	}
	cl, err := client.New(ctx, cfg, "salt/job/")
	if err != nil {
		return 2, err
	}
	defer cl.Close()
	cp := &copier{c: cl, tgt: tgt, tgtType: tgtType, timeout: time.Duration(c.Int("timeout")) * time.Second,
		compress: !c.Bool("no-compression"), results: map[string]map[string]any{}}
	for _, src := range sources {
		to := dest
		if len(sources) > 1 {
			to = path.Join(dest, filepath.Base(src))
		}
		if err := cp.copyFile(ctx, src, to); err != nil {
			return 2, err
		}
	}
	code := 0
	data := map[string]any{}
	for id, files := range cp.results {
		data[id] = files
		for _, ok := range files {
			if ok != true {
				code = 1
			}
		}
	}
	return code, out.Print(os.Stdout, data)
}

// copier sends files, chunk by chunk, to the targeted minions.
type copier struct {
	c        *client.Client
	tgt      string
	tgtType  string
	timeout  time.Duration
	compress bool
	results  map[string]map[string]any // minion → dest → what it answered
}

func (cp *copier) copyFile(ctx context.Context, src, dest string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	buf := make([]byte, chunkSize)
	first := true
	for {
		n, err := io.ReadFull(f, buf)
		if err == io.EOF && !first {
			return nil
		}
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		chunk, cerr := cp.encode(buf[:n])
		if cerr != nil {
			return cerr
		}
		arg := []any{dest, chunk, !first, cp.compress}
		if first {
			arg = append(arg, int64(fi.Mode().Perm()))
		}
		if err := cp.send(ctx, dest, arg); err != nil {
			return err
		}
		first = false
		if n < chunkSize {
			return nil
		}
	}
}

func (cp *copier) encode(b []byte) (string, error) {
	if !cp.compress {
		return base64.StdEncoding.EncodeToString(b), nil
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

// send publishes one chunk and waits until every targeted minion took it:
// the next chunk appends, so order matters.
func (cp *copier) send(ctx context.Context, dest string, arg []any) error {
	pub, err := cp.c.Publish(ctx, cp.tgt, cp.tgtType, "cp.recv_chunked", arg, "")
	if errors.Is(err, client.ErrNoMinions) {
		return errors.New("no minions matched the target")
	}
	if err != nil {
		return err
	}
	waiting := map[string]bool{}
	for _, id := range pub.Minions {
		waiting[id] = true
		if cp.results[id] == nil {
			cp.results[id] = map[string]any{}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, cp.timeout)
	defer cancel()
	for len(waiting) > 0 {
		ev, err := cp.c.Next(wctx)
		if err != nil {
			break
		}
		parts := strings.Split(ev.Tag, "/")
		if len(parts) == 5 && parts[2] == pub.JID && waiting[parts[4]] {
			delete(waiting, parts[4])
			cp.record(parts[4], dest, ev.Data["return"])
		}
	}
	for id := range waiting {
		cp.record(id, dest, "Minion did not return. [No response]")
	}
	return nil
}

// record keeps a minion's answer for a file: the first failure stands.
func (cp *copier) record(id, dest string, answer any) {
	if prev, seen := cp.results[id][dest]; !seen || prev == true {
		cp.results[id][dest] = answer
	}
}
