// Package client is Brine's local client, as Salt's LocalClient: the
// programs on the master host (brine, brine-run) prove themselves with the
// master's cachedir/.<user>_key, send publish and runner requests to the
// ret port, and read results from the master's event bus.
package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/cliutil"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// Client talks to a local master. It is safe for concurrent use.
type Client struct {
	cfg  *config.Master
	user string
	key  string
	req  *transport.ReqClient
	bus  *events.Subscriber
}

// New connects to the master configured by cfg: its request port and its
// event bus, watching tags starting with prefix. It returns once the
// subscription is active, so no event fired after New returns is missed.
func New(ctx context.Context, cfg *config.Master, prefix string) (*Client, error) {
	c := &Client{cfg: cfg}
	if err := c.readKey(); err != nil {
		return nil, err
	}
	opts := transport.Options{Reconnect: transport.Backoff{Initial: 50 * time.Millisecond, Max: time.Second}}
	pubPath := filepath.Join(cfg.SockDir, transport.EventPubFile)
	if _, err := os.Stat(pubPath); err != nil {
		return nil, cliutil.Hint(fmt.Errorf("the master's event bus %s is not there: %w", pubPath, err), "is brine-master running with this configuration (-c)?")
	}
	var err error
	if c.bus, err = events.Subscribe("ipc://"+pubPath, prefix, opts); err != nil {
		return nil, err
	}
	if err := c.syncBus(ctx, prefix, opts); err != nil {
		c.bus.Close()
		return nil, err
	}
	c.req, err = transport.NewReqClient(transport.ReqClientConfig{Addr: c.retEndpoint(), Timeout: 30 * time.Second, Tries: 1, Options: opts})
	if err != nil {
		c.bus.Close()
		return nil, err
	}
	return c, nil
}

// readKey reads the key of the user running us: root's key for root (and
// under sudo), else .<user>_key.
func (c *Client) readKey() error {
	c.user = "root"
	if u, err := user.Current(); err == nil && u.Uid != "0" {
		c.user = u.Username
	}
	if sudo := os.Getenv("SUDO_USER"); sudo != "" && c.user == "root" {
		c.user = "sudo_" + sudo
	}
	name := c.user
	if strings.HasPrefix(name, "sudo_") {
		name = "root"
	}
	path := filepath.Join(c.cfg.CacheDir, "."+name+"_key")
	b, err := os.ReadFile(path)
	if err != nil {
		return cliutil.Hint(fmt.Errorf("cannot read the master's key for %s: %w", name, err),
			"run on the master host as root or as the user the master runs as")
	}
	c.key = strings.TrimSpace(string(b))
	return nil
}

// retEndpoint is the master's ret port, reached on loopback when the
// master listens on every interface.
func (c *Client) retEndpoint() string {
	host := c.cfg.Interface
	switch host {
	case "", "0.0.0.0", "*":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	cfg := *c.cfg
	cfg.Interface = host
	return cfg.Endpoint(c.cfg.RetPort)
}

// syncBus fires probe events until one comes back through the bus: then
// the subscription has reached the publisher (ZeroMQ drops what is
// published to a subscriber before its subscription arrives).
func (c *Client) syncBus(ctx context.Context, prefix string, opts transport.Options) error {
	push, err := events.NewPusher("ipc://"+filepath.Join(c.cfg.SockDir, transport.EventPullFile), opts)
	if err != nil {
		return err
	}
	defer push.Close()
	probe := strings.TrimSuffix(prefix, "*") + fmt.Sprintf("probe/%d/%d", os.Getpid(), time.Now().UnixNano())
	if prefix == "" || strings.ContainsAny(prefix, "*?[") {
		probe = fmt.Sprintf("brine/probe/%d/%d", os.Getpid(), time.Now().UnixNano())
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.bus.WaitConnected(ctx); err != nil {
		return fmt.Errorf("the master's event bus does not answer: %w", err)
	}
	// Our subscription is on its way; a probe that overtakes it is lost,
	// so probe again at growing intervals until one comes back.
	interval := time.Millisecond
	for {
		if err := push.Fire(ctx, probe, map[string]any{}); err != nil {
			return fmt.Errorf("the master's event bus does not answer: %w", err)
		}
		wait, stop := context.WithTimeout(ctx, interval)
		interval = min(2*interval, 100*time.Millisecond)
		for {
			ev, err := c.bus.Next(wait)
			if err != nil {
				break
			}
			if ev.Tag == probe {
				stop()
				return nil
			}
		}
		stop()
		if ctx.Err() != nil {
			return errors.New("the master's event bus does not answer")
		}
	}
}

// Next returns the next event matching the client's prefix.
func (c *Client) Next(ctx context.Context) (events.Event, error) { return c.bus.Next(ctx) }

// User is the user the client acts as.
func (c *Client) User() string { return c.user }

// Close closes the client.
func (c *Client) Close() {
	c.req.Close()
	c.bus.Close()
}

// PubReply is the master's answer to a publish.
type PubReply struct {
	JID     string
	Minions []string
	Missing []string
}

// ErrNoMinions reports a target that matched no accepted minion.
var ErrNoMinions = errors.New("client: no minions matched the target")

// Publish asks the master to publish fun(arg) to the target.
func (c *Client) Publish(ctx context.Context, tgt any, tgtType, fun string, arg []any, delimiter string) (PubReply, error) {
	if arg == nil {
		arg = []any{}
	}
	if delimiter == "" {
		delimiter = ":"
	}
	load := wire.Map{
		{Key: "cmd", Value: "publish"}, {Key: "tgt", Value: tgt}, {Key: "fun", Value: fun}, {Key: "arg", Value: arg},
		{Key: "key", Value: c.key}, {Key: "tgt_type", Value: tgtType}, {Key: "ret", Value: ""}, {Key: "jid", Value: ""},
		{Key: "kwargs", Value: wire.Map{{Key: "show_timeout", Value: true}, {Key: "show_jid", Value: false}, {Key: "delimiter", Value: delimiter}}},
		{Key: "user", Value: c.user},
	}
	reply, err := c.clear(ctx, load)
	if err != nil {
		return PubReply{}, err
	}
	inner, _ := reply["load"].(map[string]any)
	if inner == nil {
		return PubReply{}, fmt.Errorf("unexpected answer from the master: %v", reply)
	}
	if id, _ := inner["jid"].(string); id != "" {
		return PubReply{JID: id, Minions: wire.Strings(inner["minions"]), Missing: wire.Strings(inner["missing"])}, nil
	}
	if msg, _ := inner["error"].(string); msg != "" && !strings.HasPrefix(msg, "Master could not resolve minions") {
		return PubReply{}, errors.New(msg)
	}
	return PubReply{}, ErrNoMinions
}

// Runner runs a master-side runner and waits for its result.
func (c *Client) Runner(ctx context.Context, fun string, args []any, kwargs map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	reply, err := c.clear(ctx, wire.Map{
		{Key: "cmd", Value: "runner"}, {Key: "fun", Value: fun}, {Key: "arg", Value: args}, {Key: "kwarg", Value: kwargs},
		{Key: "key", Value: c.key}, {Key: "user", Value: c.user},
	})
	if err != nil {
		return nil, err
	}
	tag, _ := reply["tag"].(string)
	if tag == "" {
		return nil, fmt.Errorf("unexpected answer from the master: %v", reply)
	}
	for {
		ev, err := c.bus.Next(ctx)
		if err != nil {
			return nil, err
		}
		if ev.Tag == tag+"/ret" {
			if ok, _ := ev.Data["success"].(bool); !ok {
				return nil, fmt.Errorf("%v", ev.Data["return"])
			}
			return ev.Data["return"], nil
		}
	}
}

// clear sends a clear request and returns the decoded map answer, turning
// Salt's error answers into errors.
func (c *Client) clear(ctx context.Context, load wire.Map) (map[string]any, error) {
	req, err := (&wire.Request{Enc: "clear", Load: load, Version: 3}).Marshal()
	if err != nil {
		return nil, err
	}
	raw, err := c.req.Request(ctx, req)
	if err != nil {
		return nil, cliutil.Hint(fmt.Errorf("the master at %s does not answer: %w", c.retEndpoint(), err), "is brine-master running?")
	}
	v, err := wire.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("unreadable answer from the master: %w", err)
	}
	reply, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the master answered %v", v)
	}
	if e, ok := reply["error"].(map[string]any); ok {
		return nil, fmt.Errorf("%v: %v", e["name"], e["message"])
	}
	return reply, nil
}
