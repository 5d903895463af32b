package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport"
)

// action is what one brine-key run does.
type action int

const (
	actList action = iota
	actAccept
	actReject
	actDelete
	actFinger
	actPrint
	actGenKeys
)

type options struct {
	configDir, logLevel string
	act                 action
	pattern             string      // glob of ids ("*" for the -A/-R/-D/-F/-P forms)
	listStates          []pki.State // -L / -l
	includeRejected     bool
	includeDenied       bool
	includeAccepted     bool
	yes                 bool
	genName, genDir     string
	keySize             int
	hashType            string
	out                 string
}

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// usageError is bad usage: exit status 2.
type usageError struct{ error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

func optionsFrom(c *cli.Context) (options, error) {
	o := options{
		configDir: c.String("config-dir"), logLevel: c.String("log-level"),
		includeRejected: c.Bool("include-rejected"), includeDenied: c.Bool("include-denied"),
		includeAccepted: c.Bool("include-accepted"), yes: c.Bool("yes"),
		genName: c.String("gen-keys"), genDir: c.String("gen-keys-dir"), keySize: c.Int("keysize"),
		hashType: c.String("hash-type"), out: c.String("out"),
	}
	type choice struct {
		set     bool
		act     action
		pattern string
		flag    string
	}
	choices := []choice{
		{c.IsSet("accept"), actAccept, c.String("accept"), "-a"},
		{c.Bool("accept-all"), actAccept, "*", "-A"},
		{c.IsSet("reject"), actReject, c.String("reject"), "-r"},
		{c.Bool("reject-all"), actReject, "*", "-R"},
		{c.IsSet("delete"), actDelete, c.String("delete"), "-d"},
		{c.Bool("delete-all"), actDelete, "*", "-D"},
		{c.IsSet("finger"), actFinger, c.String("finger"), "-f"},
		{c.Bool("finger-all"), actFinger, "*", "-F"},
		{c.IsSet("print"), actPrint, c.String("print"), "-p"},
		{c.Bool("print-all"), actPrint, "*", "-P"},
		{o.genName != "", actGenKeys, "", "--gen-keys"},
		{c.Bool("list-all"), actList, "*", "-L"},
		{c.IsSet("list"), actList, "*", "-l"},
	}
	var chosen []string
	for _, ch := range choices {
		if ch.set {
			chosen = append(chosen, ch.flag)
			o.act, o.pattern = ch.act, ch.pattern
		}
	}
	if len(chosen) > 1 {
		return o, usageError{cliutil.Hint(fmt.Errorf("%s cannot be combined", strings.Join(chosen, " and ")), "give one action per run")}
	}
	if len(chosen) == 0 {
		o.act, o.pattern = actList, "*"
	}
	o.listStates = pki.States
	if c.IsSet("list") && c.String("list") != "all" {
		st, err := pki.ParseState(c.String("list"))
		if err != nil {
			return o, usageError{err}
		}
		o.listStates = []pki.State{st}
	}
	switch o.out {
	case "txt", "json", "yaml":
	default:
		return o, usageError{fmt.Errorf("--out %q: want txt, json or yaml", o.out)}
	}
	return o, nil
}

// heading is salt-key's name for each state's section.
var heading = map[pki.State]string{
	pki.Accepted: "Accepted Keys:",
	pki.Denied:   "Denied Keys:",
	pki.Pending:  "Unaccepted Keys:",
	pki.Rejected: "Rejected Keys:",
}

// outKey is salt-key's name for each state in json/yaml output.
var outKey = map[pki.State]string{
	pki.Accepted: "minions",
	pki.Denied:   "minions_denied",
	pki.Pending:  "minions_pre",
	pki.Rejected: "minions_rejected",
}

func runKey(ctx context.Context, o options, io stdio) error {
	if o.act == actGenKeys {
		return genKeys(o, io)
	}
	cfg, warns, err := config.LoadMaster(o.configDir)
	if err != nil {
		return err
	}
	level := o.logLevel
	if level == "" {
		level = cfg.LogLevel
	}
	log, err := cliutil.Logger(io.err, level)
	if err != nil {
		return usageError{err}
	}
	for _, w := range warns {
		log.Debug("config: " + w.String())
	}
	store, err := pki.Open(cfg.PKIDir)
	if err != nil {
		return err
	}
	if o.hashType == "" {
		o.hashType = cfg.HashType
	}
	k := &keyCmd{o: o, io: io, cfg: cfg, store: store}
	switch o.act {
	case actList:
		return k.list()
	case actFinger, actPrint:
		return k.show()
	default:
		return k.change(ctx)
	}
}

type keyCmd struct {
	o     options
	io    stdio
	cfg   *config.Master
	store *pki.Store
}

// matches returns, per state, the ids matching the pattern.
func (k *keyCmd) matches(states []pki.State) (map[pki.State][]string, int, error) {
	out := map[pki.State][]string{}
	n := 0
	for _, st := range states {
		ids, err := k.store.Match(st, k.o.pattern)
		if err != nil {
			return nil, 0, err
		}
		out[st] = ids
		n += len(ids)
	}
	return out, n, nil
}

// print writes keys by state in the chosen format; value, if set, gives
// each id's text (a fingerprint, a key).
func (k *keyCmd) print(states []pki.State, ids map[pki.State][]string, value func(pki.State, string) (string, error)) error {
	if k.o.out != "txt" {
		doc := map[string]any{}
		for _, st := range states {
			if value == nil {
				doc[outKey[st]] = nonNil(ids[st])
				continue
			}
			m := map[string]string{}
			for _, id := range ids[st] {
				v, err := value(st, id)
				if err != nil {
					return err
				}
				m[id] = v
			}
			doc[outKey[st]] = m
		}
		return encodeOut(k.io.out, k.o.out, doc)
	}
	for _, st := range states {
		fmt.Fprintln(k.io.out, heading[st])
		for _, id := range ids[st] {
			if value == nil {
				fmt.Fprintln(k.io.out, id)
				continue
			}
			v, err := value(st, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(k.io.out, "%s:  %s\n", id, v)
		}
	}
	return nil
}

func (k *keyCmd) list() error {
	ids, _, err := k.matches(k.o.listStates)
	if err != nil {
		return err
	}
	return k.print(k.o.listStates, ids, nil)
}

// show prints fingerprints (-f/-F) or keys (-p/-P); -F/-P start with the
// master's own keys, as salt-key's "Local Keys".
func (k *keyCmd) show() error {
	ids, n, err := k.matches(pki.States)
	if err != nil {
		return err
	}
	value := func(st pki.State, id string) (string, error) {
		key, err := k.store.Get(st, id)
		if err != nil {
			return "", err
		}
		if k.o.act == actPrint {
			return key, nil
		}
		return crypto.Fingerprint([]byte(key), k.o.hashType)
	}
	if k.o.pattern == "*" && k.o.out == "txt" {
		fmt.Fprintln(k.io.out, "Local Keys:")
		for _, f := range []string{"master.pem", "master.pub"} {
			b, err := os.ReadFile(filepath.Join(k.cfg.PKIDir, f))
			if err != nil {
				continue
			}
			v := string(b)
			if k.o.act == actFinger {
				if v, err = crypto.Fingerprint(b, k.o.hashType); err != nil {
					return err
				}
			}
			fmt.Fprintf(k.io.out, "%s:  %s\n", f, v)
		}
	}
	if n == 0 && k.o.pattern != "*" {
		return fmt.Errorf("the key glob %q does not match any key", k.o.pattern)
	}
	return k.print(pki.States, ids, value)
}

// change accepts, rejects or deletes the matching keys, after asking
// (unless -y), then tells a running master: a salt/key event per key, and
// for a delete or reject, the .dfn file that makes it rotate its AES key.
func (k *keyCmd) change(ctx context.Context) error {
	var from []pki.State
	var verb, past string
	switch k.o.act {
	case actAccept:
		from, verb, past = []pki.State{pki.Pending}, "accepted", "accept"
		if k.o.includeRejected {
			from = append(from, pki.Rejected)
		}
		if k.o.includeDenied {
			from = append(from, pki.Denied)
		}
	case actReject:
		from, verb, past = []pki.State{pki.Pending}, "rejected", "reject"
		if k.o.includeAccepted {
			from = append(from, pki.Accepted)
		}
		if k.o.includeDenied {
			from = append(from, pki.Denied)
		}
	case actDelete:
		from, verb, past = pki.States, "deleted", "delete"
	}
	ids, n, err := k.matches(from)
	if err != nil {
		return err
	}
	if n == 0 {
		what := map[action]string{actAccept: "unaccepted", actReject: "pending", actDelete: ""}[k.o.act]
		return fmt.Errorf("the key glob %q does not match any %s keys", k.o.pattern, what)
	}
	if !k.o.yes {
		fmt.Fprintf(k.io.out, "The following keys are going to be %s:\n", verb)
		if err := k.print(from, ids, nil); err != nil {
			return err
		}
		ok, err := confirm(k.io, k.o.act == actAccept)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
	}
	done := map[string]bool{}
	var changed []string
	for _, st := range from {
		for _, id := range ids[st] {
			switch k.o.act {
			case actAccept:
				err = k.store.Move(id, st, pki.Accepted)
			case actReject:
				err = k.store.Move(id, st, pki.Rejected)
			case actDelete:
				err = k.store.Delete(st, id)
			}
			if err != nil {
				return fmt.Errorf("key for minion %s: %w", id, err)
			}
			if !done[id] {
				done[id] = true
				changed = append(changed, id)
				if k.o.out == "txt" {
					fmt.Fprintf(k.io.out, "Key for minion %s %s.\n", id, verb)
				}
			}
		}
	}
	if k.o.act != actAccept && k.cfg.RotateAESKey {
		// Salt's drop file: the master rotates its AES key, so a minion
		// that lost its key loses the publications too. No cachedir: no
		// master has run here, and the next one starts with a new key.
		if _, err := os.Stat(k.cfg.CacheDir); err == nil {
			if err := os.WriteFile(filepath.Join(k.cfg.CacheDir, ".dfn"), nil, 0o400); err != nil && !os.IsExist(err) {
				fmt.Fprintf(k.io.err, "brine-key: warning: the master will not rotate its AES key: %v\n", err)
			}
		}
	}
	k.fireEvents(ctx, past, changed)
	if k.o.out != "txt" {
		return encodeOut(k.io.out, k.o.out, map[string]any{verb: changed})
	}
	return nil
}

// fireEvents sends salt/key events to the master's bus if a master is
// running; without one there is nobody to tell.
func (k *keyCmd) fireEvents(ctx context.Context, act string, ids []string) {
	sock := filepath.Join(k.cfg.SockDir, transport.EventPullFile)
	if _, err := os.Stat(sock); err != nil {
		return
	}
	p, err := events.NewPusher("ipc://"+sock, transport.Options{Linger: 2 * time.Second})
	if err != nil {
		return
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, id := range ids {
		if err := p.Fire(ctx, "salt/key", map[string]any{"result": true, "act": act, "id": id}); err != nil {
			fmt.Fprintf(k.io.err, "brine-key: warning: the master did not take the salt/key event: %v\n", err)
			return
		}
	}
}

// confirm asks "Proceed?"; accepting defaults to yes, like salt-key.
func confirm(io stdio, defaultYes bool) (bool, error) {
	prompt := "Proceed? [N/y] "
	if defaultYes {
		prompt = "Proceed? [n/Y] "
	}
	fmt.Fprint(io.out, prompt)
	line, err := bufio.NewReader(io.in).ReadString('\n')
	if err != nil && line == "" {
		return false, errors.New("no answer on stdin (use -y to skip the question)")
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	case "":
		return defaultYes, nil
	}
	return false, nil
}

func genKeys(o options, io stdio) error {
	if err := os.MkdirAll(o.genDir, 0o755); err != nil {
		return err
	}
	priv, err := crypto.GenerateKey(rand.Reader, o.keySize)
	if err != nil {
		return usageError{err}
	}
	pem := filepath.Join(o.genDir, o.genName+".pem")
	if err := crypto.WritePrivateKey(pem, priv); err != nil {
		return err
	}
	pub := filepath.Join(o.genDir, o.genName+".pub")
	if err := crypto.WritePublicKey(pub, &priv.PublicKey); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "Keys written: %s, %s\n", pem, pub)
	return nil
}

func encodeOut(w io.Writer, format string, v any) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "    ")
		return enc.Encode(v)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	defer enc.Close()
	return enc.Encode(v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
