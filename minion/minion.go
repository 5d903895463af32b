// Package minion is the Brine minion: it authenticates to the master,
// subscribes to its publications and talks to it over the request
// channel. It never imports package master, so that the minion binary
// stays small.
package minion

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/minion/fileclient"
	"github.com/brine-project/brine/minion/grains"
	"github.com/brine-project/brine/minion/metrics"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/all"
	"github.com/brine-project/brine/minion/spool"
	"github.com/brine-project/brine/transport"
	"github.com/brine-project/brine/transport/wire"
)

// Minion is a running minion. Create it with New, run it with Run.
type Minion struct {
	cfg  *config.Minion
	log  *slog.Logger
	rand io.Reader

	priv    *rsa.PrivateKey
	pubPEM  string // minion.pub, clean form, as sent in _auth
	tok     []byte // X9.31 of "salt" with our key: deterministic, made once
	token   string // the token of our _auth requests, made once per run
	encAlgo crypto.EncAlgo
	sigAlgo crypto.SigAlgo

	authTimeout time.Duration
	req         *transport.ReqClient

	authMu     sync.Mutex // serialises authentication
	mu         sync.Mutex // guards creds, grainsData and pillarData
	creds      *creds
	grainsData map[string]any
	pillarData map[string]any

	registry *modules.Registry
	tracker  *modules.Tracker
	env      *modules.Env
	jobsWG   sync.WaitGroup // running jobs

	lastHMACReauth time.Time // publication loop only: see hmacReauthDue

	spool     *spool.Spool  // returns the master could not take; nil: none
	spoolKick chan struct{} // cap 1: try the spool now

	opts Options

	metrics *metrics.Minion // nil: metrics_port is 0

	bus       *transport.Publisher // the minion's own event bus
	local     *events.LocalFirer   // fires onto bus
	busEvents chan events.Event    // bus events the minion acts on
}

// Options adjust a minion for running many of them in one process, as
// brine-swarm does. The zero value is a standalone minion.
type Options struct {
	Logger *slog.Logger
	// Key is the minion's key; nil: pki_dir/minion.pem, made on first start.
	Key *rsa.PrivateKey
	// Tok is X9.31("salt") with Key, if the caller has it already.
	Tok []byte
	// Grains replace the grains the minion would find.
	Grains map[string]any
	// Registry is shared instead of building one per minion.
	Registry *modules.Registry
	// NoBus leaves out the minion's own event bus.
	NoBus bool
	// OnReady is called once the minion is authenticated and subscribed.
	OnReady func()
}

// New loads the minion's keys, making them on first start.
func New(cfg *config.Minion, log *slog.Logger) (*Minion, error) {
	return NewWith(cfg, Options{Logger: log})
}

// NewWith is New with options.
func NewWith(cfg *config.Minion, opts Options) (*Minion, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Minion{cfg: cfg, log: log.With("minion", cfg.ID), rand: rand.Reader,
		authTimeout: time.Duration(cfg.AuthTimeout) * time.Second, opts: opts}
	var err error
	if m.encAlgo, err = crypto.ParseEncAlgo(cfg.EncryptionAlgorithm); err != nil {
		return nil, fmt.Errorf("minion: encryption_algorithm: %w", err)
	}
	if m.sigAlgo, err = crypto.ParseSigAlgo(cfg.SigningAlgorithm); err != nil {
		return nil, fmt.Errorf("minion: signing_algorithm: %w", err)
	}
	for _, d := range []string{cfg.PKIDir, cfg.CacheDir, cfg.SockDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("minion: %w", err)
		}
	}
	if opts.Key != nil {
		if err := m.useKey(opts.Key, opts.Tok); err != nil {
			return nil, err
		}
	} else if err := m.loadKeys(); err != nil {
		return nil, err
	}
	if m.token, err = crypto.GenerateCrypticleKey(m.rand); err != nil {
		return nil, err
	}
	if err := m.openSpool(); err != nil {
		return nil, fmt.Errorf("minion: return spool: %w", err)
	}
	m.grainsData = opts.Grains
	if m.grainsData == nil {
		m.grainsData = m.collectGrains()
	}
	m.busEvents = make(chan events.Event, 64)
	m.pillarData = map[string]any{}
	m.registry = opts.Registry
	if m.registry == nil {
		m.registry = all.Registry()
	}
	m.tracker = modules.NewTracker()
	m.env = &modules.Env{ID: cfg.ID, Config: cfg, Grains: m.grains, Pillar: m.pillar, Jobs: m.tracker,
		FireMaster: m.fireMaster, FireLocal: m.fireLocal, Refresh: m.refresh,
		Files: fileclient.New(fileclient.Config{ID: cfg.ID, CacheDir: cfg.CacheDir, HashType: cfg.HashType,
			BufferSize: cfg.FileBufferSize, Request: m.request, Logger: m.log})}
	return m, nil
}

func (m *Minion) loadKeys() error {
	pemPath := filepath.Join(m.cfg.PKIDir, "minion.pem")
	priv, err := crypto.ReadPrivateKey(pemPath)
	if errors.Is(err, fs.ErrNotExist) {
		m.log.Info("minion: generating key pair", "path", pemPath, "bits", m.cfg.KeySize)
		if priv, err = crypto.GenerateKey(m.rand, m.cfg.KeySize); err != nil {
			return err
		}
		if err := crypto.WritePrivateKey(pemPath, priv); err != nil {
			return fmt.Errorf("minion: %w", err)
		}
		if err := crypto.WritePublicKey(filepath.Join(m.cfg.PKIDir, "minion.pub"), &priv.PublicKey); err != nil {
			return fmt.Errorf("minion: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("minion: reading %s: %w", pemPath, err)
	}
	return m.useKey(priv, nil)
}

// useKey takes priv as the minion's key; tok, if given, is its X9.31 of
// "salt" (made here otherwise).
func (m *Minion) useKey(priv *rsa.PrivateKey, tok []byte) error {
	m.priv = priv
	m.pubPEM = crypto.CleanKey(crypto.PublicKeyPEM(&priv.PublicKey))
	if tok != nil {
		m.tok = tok
		return nil
	}
	var err error
	m.tok, err = crypto.SignX931(m.rand, priv, []byte("salt"))
	return err
}

// Run connects to the master, authenticates (waiting while the key is
// pending), subscribes to publications and serves until ctx ends. It
// re-authenticates whenever the publish link comes back after a drop (the
// master may have restarted with a new AES key) or a publication fails
// its HMAC (the key was rotated).
func (m *Minion) Run(ctx context.Context) error {
	defer m.serveMetrics(ctx)()
	var err error
	m.req, err = transport.NewReqClient(transport.ReqClientConfig{
		Addr:    m.cfg.RetEndpoint(),
		Timeout: time.Duration(m.cfg.RequestChannelTimeout) * time.Second,
		Tries:   m.cfg.RequestChannelTries,
		Options: m.transportOptions(nil),
	})
	if err != nil {
		return err
	}
	defer m.req.Close()

	if !m.opts.NoBus {
		if err := m.openBus(); err != nil {
			return err
		}
		busCtx, stopBus := context.WithCancel(ctx)
		busDone := make(chan error, 1)
		go func() { busDone <- m.bus.Serve(busCtx) }()
		defer func() { stopBus(); <-busDone }()
	}

	if err := m.signIn(ctx, false); err != nil {
		return err
	}
	if m.spool != nil {
		drained := make(chan struct{})
		go func() { m.drainSpool(ctx); close(drained) }()
		defer func() { <-drained }()
	}
	reauth := make(chan struct{}, 1)
	if every := time.Duration(m.cfg.PingInterval) * time.Minute; every > 0 {
		pinged := make(chan struct{})
		go func() { m.pingMaster(ctx, every, reauth); close(pinged) }()
		defer func() { <-pinged }()
	}
	linkUp := make(chan struct{})
	var upOnce sync.Once
	var wasUp, wasDown bool
	var linkMu sync.Mutex
	sub, err := transport.NewSubscriber(transport.SubscriberConfig{
		Addr:   m.cfg.PublishEndpoint(),
		Topics: m.topics(),
		Options: m.transportOptions(func(up bool, remote string) {
			linkMu.Lock()
			defer linkMu.Unlock()
			if !up {
				if wasUp && !wasDown {
					m.log.Warn("minion: the publish link is down; reconnecting", "master", remote)
				}
				wasDown = wasUp
				return
			}
			upOnce.Do(func() {
				close(linkUp)
				if m.opts.OnReady != nil {
					m.opts.OnReady() // authenticated, and now subscribed
				}
			})
			if wasDown {
				m.metrics.Reconnect()
				select {
				case reauth <- struct{}{}:
				default:
				}
			}
			wasUp, wasDown = true, false
		}),
	})
	if err != nil {
		return err
	}
	defer sub.Close()
	// Jobs still running when we stop get their context cancelled (ctx)
	// and their returns a last chance to go out before the channel closes.
	defer m.jobsWG.Wait()
	// As Salt's minion: subscribed, then the pillar, then announce
	// ourselves (publications that come meanwhile wait in the queue).
	select {
	case <-linkUp:
	case <-time.After(m.authTimeout):
		m.log.Warn("minion: the publish port is not reachable yet", "publish", m.cfg.PublishEndpoint())
	case <-ctx.Done():
		return nil
	}
	if err := m.refreshPillar(ctx); err != nil {
		m.log.Warn("minion: refreshing the pillar", "err", err)
	}
	m.fireStart(ctx)

	pubs := make(chan [][]byte)
	go func() {
		for {
			msg, err := sub.Recv(ctx)
			if err != nil {
				close(pubs)
				return
			}
			select {
			case pubs <- msg:
			case <-ctx.Done():
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			for range pubs {
			}
			return nil
		case <-reauth:
			m.log.Info("minion: the master may have restarted; authenticating again")
			// No random_reauth_delay here: the reconnect backoff
			// (recon_default + a random share of recon_max, plus jitter)
			// has already spread a fleet coming back from a master
			// restart; both delays together would stretch it past 30 s.
			if err := m.signInAgain(ctx, m.currentCreds(), false); err != nil {
				return err
			}
		case msg, ok := <-pubs:
			if !ok {
				return nil
			}
			m.publication(ctx, msg)
		case ev := <-m.busEvents:
			m.handleBusEvent(ctx, ev)
		}
	}
}

// transportOptions are the socket options of the minion's links, with
// Salt's reconnect backoff.
func (m *Minion) transportOptions(onPeer func(bool, string)) transport.Options {
	var beat time.Duration
	if m.cfg.HeartbeatInterval > 0 {
		beat = time.Duration(m.cfg.HeartbeatInterval) * time.Second
	}
	return transport.Options{
		Logger:           m.log,
		MaxMsgSize:       m.cfg.MaxMessageSize,
		Heartbeat:        beat,
		HeartbeatTimeout: beat * 3 / 2, // as the master's: dead within 2 intervals
		Reconnect: transport.Backoff{
			Initial:     time.Duration(m.cfg.ReconDefault) * time.Millisecond,
			Max:         time.Duration(m.cfg.ReconMax) * time.Millisecond,
			NoRandomize: !m.cfg.ReconRandomize,
		},
		OnPeer: onPeer,
	}
}

// signIn authenticates until accepted: while the key is pending (or the
// master is full, or refuses us) it waits acceptance_wait_time, growing to
// acceptance_wait_time_max, with jitter, and tries again. It returns only
// on acceptance or when ctx ends. With spread, a minion that had a session
// first waits a random share of random_reauth_delay.
func (m *Minion) signIn(ctx context.Context, spread bool) error {
	if d := m.cfg.RandomReauthDelay; d > 0 && spread && m.haveCreds() {
		// Salt's random_reauth_delay: a crowd of minions re-authenticating
		// after a key rotation spreads out instead of arriving together.
		if err := sleepCtx(ctx, mrand.N(time.Duration(d)*time.Second)); err != nil {
			return nil
		}
	}
	wait := time.Duration(m.cfg.AcceptanceWaitTime) * time.Second
	maxWait := max(wait, time.Duration(m.cfg.AcceptanceWaitTimeMax)*time.Second)
	for {
		c, err := m.authenticate(ctx)
		if err == nil {
			m.mu.Lock()
			if m.creds != nil && m.creds.aesKey == c.aesKey {
				// Same AES key: the publications seen so far still count.
				c.serials = m.creds.serials
			}
			m.creds = c
			m.mu.Unlock()
			m.log.Info("minion: authenticated with the master", "master", m.cfg.RetEndpoint())
			m.kickSpool() // returns spooled while it was away
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if retry, ok := errors.AsType[*RetryLaterError](err); ok {
			// The master's backlog, not ours: its own delay, with jitter,
			// and the acceptance wait does not grow.
			m.log.Info("minion: the master asks us to authenticate later", "retry_in", retry.After)
			if err := sleepCtx(ctx, retry.After/2+mrand.N(retry.After)); err != nil {
				return nil
			}
			continue
		}
		level := slog.LevelInfo
		if errors.Is(err, ErrMasterKey) || errors.Is(err, ErrRejected) {
			level = slog.LevelError
		}
		m.log.Log(ctx, level, "minion: authentication failed; retrying", "err", err, "retry_in", wait)
		// Jitter: up to a fifth of the wait, so minions pending together
		// do not come back in lockstep.
		if err := sleepCtx(ctx, wait+mrand.N(wait/5+1)); err != nil {
			return nil
		}
		wait = min(maxWait, wait+time.Duration(m.cfg.AcceptanceWaitTime)*time.Second)
	}
}

// errBadLoad is the master refusing an AES request: our session is no
// longer good (our key was deleted, the master lost our session), so we
// must authenticate again.
var errBadLoad = errors.New("minion: the master refused the request (bad load)")

// reauth authenticates again unless another goroutine already did since
// stale was current.
func (m *Minion) reauth(ctx context.Context, stale *creds) error {
	return m.signInAgain(ctx, stale, true)
}

// signInAgain is reauth, spread or not over random_reauth_delay.
func (m *Minion) signInAgain(ctx context.Context, stale *creds, spread bool) error {
	m.authMu.Lock()
	defer m.authMu.Unlock()
	if m.currentCreds() != stale {
		return nil
	}
	return m.signIn(ctx, spread)
}

func (m *Minion) haveCreds() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.creds != nil
}

func (m *Minion) currentCreds() *creds {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.creds
}

// request sends an AES request (version 3: under the session key, with
// nonce, ts and tok) and returns the master's answer.
func (m *Minion) request(ctx context.Context, load wire.Map) (any, error) {
	return m.requestTries(ctx, load, m.cfg.RequestChannelTries)
}

// requestTries is request with its own number of tries.
func (m *Minion) requestTries(ctx context.Context, load wire.Map, tries int) (any, error) {
	c := m.currentCreds()
	nonce := newNonce(m.rand)
	raw, err := m.rawRequest(ctx, load, nonce, tries)
	if err != nil {
		return nil, err
	}
	v, err := wire.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("minion: unreadable reply: %w", err)
	}
	var blob []byte
	switch v := v.(type) {
	case []byte:
		blob = v
	case string:
		blob = []byte(v)
	default:
		return nil, fmt.Errorf("minion: unexpected reply %T", v)
	}
	plain, err := c.session.Open(blob, nonce)
	if err != nil {
		if s, ok := v.(string); ok && len(s) < 100 {
			if s == "bad load" {
				return nil, errBadLoad
			}
			return nil, fmt.Errorf("minion: the master answered %q", s)
		}
		return nil, fmt.Errorf("minion: the reply does not decrypt: %w", err)
	}
	return wire.Unmarshal(plain)
}

// rawRequest seals load (adding nonce, ts and tok) and returns the
// master's raw reply.
func (m *Minion) rawRequest(ctx context.Context, load wire.Map, nonce string, tries int) ([]byte, error) {
	c := m.currentCreds()
	load = append(slices.Clip(load),
		wire.Field{Key: "nonce", Value: nonce},
		wire.Field{Key: "ts", Value: time.Now().Unix()},
		wire.Field{Key: "tok", Value: m.tok},
	)
	payload, err := wire.Marshal(load)
	if err != nil {
		return nil, err
	}
	sealed, err := c.session.Seal(m.rand, "", payload)
	if err != nil {
		return nil, err
	}
	env, err := (&wire.Request{Enc: "aes", Load: sealed, Version: 3, ID: m.cfg.ID,
		EncAlgo: string(m.encAlgo), SigAlgo: string(m.sigAlgo)}).Marshal()
	if err != nil {
		return nil, err
	}
	return m.req.RequestTries(ctx, env, time.Duration(m.cfg.RequestChannelTimeout)*time.Second, tries)
}

// collectGrains finds the grains: the host's, the grains file's and the
// config's.
func (m *Minion) collectGrains() map[string]any {
	return grains.CollectConf(m.cfg.ID, m.cfg.ConfDir, m.cfg.Grains, m.log)
}

// fireMaster sends an event to the master's bus (_minion_event).
func (m *Minion) fireMaster(ctx context.Context, tag string, data map[string]any) error {
	_, err := m.request(ctx, wire.Map{
		{Key: "id", Value: m.cfg.ID}, {Key: "cmd", Value: "_minion_event"}, {Key: "pretag", Value: nil},
		{Key: "data", Value: data}, {Key: "tag", Value: tag},
	})
	return err
}

// pingMaster is Salt's ping_interval: every so often a minion_ping event
// goes to the master over the request channel. One that fails means the
// request link or the master's session is gone, which the publish link
// alone may not show: authenticate again (through reauth, Run's loop).
func (m *Minion) pingMaster(ctx context.Context, every time.Duration, reauth chan<- struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tctx, cancel := context.WithTimeout(ctx, time.Duration(m.cfg.RequestChannelTimeout)*time.Second)
		_, err := m.requestTries(tctx, wire.Map{
			{Key: "id", Value: m.cfg.ID}, {Key: "cmd", Value: "_minion_event"}, {Key: "pretag", Value: nil},
			{Key: "data", Value: "ping"}, {Key: "tag", Value: "minion_ping"},
		}, 1)
		cancel()
		if err == nil {
			m.kickSpool()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		m.log.Warn("minion: the master did not answer our ping; authenticating again", "err", err)
		select {
		case reauth <- struct{}{}:
		default:
		}
	}
}

// fireStart sends the start events Salt's minion sends once connected.
func (m *Minion) fireStart(ctx context.Context) {
	msg := fmt.Sprintf("Minion %s started at %s", m.cfg.ID, time.Now().Format("Mon Jan _2 15:04:05 2006"))
	for _, tag := range []string{"minion_start", "salt/minion/" + m.cfg.ID + "/start"} {
		_, err := m.request(ctx, wire.Map{
			{Key: "id", Value: m.cfg.ID},
			{Key: "cmd", Value: "_minion_event"},
			{Key: "pretag", Value: nil},
			{Key: "data", Value: msg},
			{Key: "tag", Value: tag},
		})
		if err != nil {
			m.log.Warn("minion: sending the start event", "tag", tag, "err", err)
		}
	}
}

// publication checks and decrypts one publication. A publication that
// fails its HMAC means the master's AES key changed: authenticate again
// and try it once more.
func (m *Minion) publication(ctx context.Context, msg [][]byte) {
	body := msg[len(msg)-1]
	pub, err := wire.DecodePublication(body)
	if err != nil {
		m.log.Warn("minion: dropping a malformed publication", "err", err)
		return
	}
	c := m.currentCreds()
	if m.cfg.SignPubMessages {
		algo, err := crypto.ParseSigAlgo(pub.SigAlgo)
		if err == nil {
			err = crypto.Verify(c.masterPub, algo, pub.Load, pub.Sig)
		}
		if err != nil {
			m.log.Warn("minion: dropping a publication whose signature does not verify", "err", err)
			return
		}
	}
	plain, err := c.aes.Open(pub.Load, "")
	if errors.Is(err, crypto.ErrHMAC) && m.hmacReauthDue() {
		m.log.Info("minion: a publication does not verify with our AES key; authenticating again")
		if err := m.reauth(ctx, c); err != nil || ctx.Err() != nil {
			return
		}
		c = m.currentCreds()
		plain, err = c.aes.Open(pub.Load, "")
	}
	if err != nil {
		m.log.Warn("minion: dropping a publication that does not decrypt", "err", err)
		return
	}
	load, err := wire.UnmarshalMap(plain)
	if err != nil {
		m.log.Warn("minion: dropping a publication whose load is not a map", "err", err)
		return
	}
	serial, err := wire.Int(load, "serial")
	if err == nil && !c.serials.Check(serial) {
		m.log.Warn("minion: dropping a replayed publication", "serial", serial)
		return
	}
	delete(load, "serial")
	m.dispatch(ctx, load)
}

// hmacReauthEvery bounds how often a publication that fails its HMAC makes
// the minion authenticate again. A rotated AES key needs one; a stream of
// forged publications (one who can write to the publish link, when
// sign_pub_messages is off) must not keep the minion re-authenticating
// instead of serving.
const hmacReauthEvery = time.Minute

// hmacReauthDue reports whether a publication failing its HMAC may make
// the minion authenticate again now, and if so counts it.
func (m *Minion) hmacReauthDue() bool {
	now := time.Now()
	if !m.lastHMACReauth.IsZero() && now.Sub(m.lastHMACReauth) < hmacReauthEvery {
		return false
	}
	m.lastHMACReauth = now
	return true
}

// newNonce is uuid4().hex: 32 lowercase hex digits.
func newNonce(rnd io.Reader) string {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		panic("minion: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(s)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
