// Package master is the Brine master: the request server on the ret port
// (authentication, minion requests, local clients), the publisher on the
// publish port, the event bus, the key store and the master's secrets.
// It never imports package minion.
package master

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/events"
	"github.com/brine-project/brine/internal/jid"
	"github.com/brine-project/brine/internal/pprofhttp"
	"github.com/brine-project/brine/master/fileserver"
	"github.com/brine-project/brine/master/jobcache"
	"github.com/brine-project/brine/master/mcache"
	"github.com/brine-project/brine/master/metrics"
	"github.com/brine-project/brine/master/pillar"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport"
)

// jobCacheFile is the job cache's file in cachedir.
const jobCacheFile = "jobs.db"

// Master is a running master. Create it with New, run it with Run.
type Master struct {
	cfg  *config.Master
	log  *slog.Logger
	rand io.Reader

	keys    *pki.Store
	priv    *rsa.PrivateKey
	pubPEM  string // master.pub, clean form, as sent in pub_key
	signPub string // pub_sig for master_sign_pubkey ("" when off)

	pubSigAlgo crypto.SigAlgo // publish_signing_algorithm

	aes      *aesKeys
	sessions *sessions
	toks     *tokCache
	replays  *replayGuard
	rootKeys map[string]string // user → key of cachedir/.<user>_key

	jids    jid.Generator
	jobs    jobcache.Cache
	mcache  *mcache.Cache
	returns returnWaiters
	// returnSlots bounds the returns waiting on the job cache's commit.
	returnSlots slots
	files       *fileserver.Server // file_roots, for minions' file requests
	pillars     *pillar.Compiler   // pillar_roots

	runCtx    context.Context // Run's serving context: runners started by requests end with it
	runnersWG sync.WaitGroup
	runnersMu sync.Mutex // orders runnersWG.Add against the drain's Wait
	draining  bool       // under runnersMu: stopping, no new runner starts

	autosign, autoreject pki.PatternFile

	bus       *transport.Publisher // the event bus (PULL → PUB over ipc)
	events    events.Firer
	publisher *transport.Publisher
	daemon    *publishDaemon // the publish port's process, if it has one
	server    *transport.ReqServer

	metrics   *metrics.Master // nil: metrics_port is 0
	metricsLn net.Listener    // bound by New, served by Run
}

// transportOptions are the master's socket options: heartbeat_interval's
// PINGs, a peer silent for one and a half intervals dropped (both sides
// ping each interval, so a live link is never silent that long), and
// max_message_size.
func transportOptions(cfg *config.Master, log *slog.Logger) transport.Options {
	o := transport.Options{Logger: log, MaxMsgSize: cfg.MaxMessageSize}
	if cfg.HeartbeatInterval > 0 {
		o.Heartbeat = time.Duration(cfg.HeartbeatInterval) * time.Second
		o.HeartbeatTimeout = o.Heartbeat * 3 / 2
	}
	return o
}

// eventBusHWM is how many events the bus queues for one local subscriber
// before it drops that subscriber's events. Salt's IPC bus buffers without
// a bound (ipc_write_buffer: 0); ZeroMQ's default of 1000 loses returns
// when 10,000 minions answer at once and the CLI reads a moment late.
// At ~300 bytes an event, a subscriber that stops reading costs at most
// ~30 MB.
const eventBusHWM = 100_000

// Options are how a master runs beyond its configuration.
type Options struct {
	Logger *slog.Logger // nil: discard
	// PublishDaemon, if set, is the command that runs the publish port in
	// a process of its own (see ServePublishDaemon): brine-master passes
	// itself. Unset, the publish port is served in this process.
	PublishDaemon []string
}

// New prepares the master: directories, keys, secrets, and its sockets,
// bound and ready for Run. It fails if a port or socket is in use.
func New(cfg *config.Master, log *slog.Logger) (*Master, error) {
	return NewWith(cfg, Options{Logger: log})
}

// NewWith is New with Options.
func NewWith(cfg *config.Master, o Options) (*Master, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Master{
		cfg:        cfg,
		log:        log,
		rand:       rand.Reader,
		runCtx:     context.Background(),
		autosign:   pki.PatternFile{Path: cfg.AutosignFile},
		autoreject: pki.PatternFile{Path: cfg.AutorejectFile},
	}
	var err error
	if m.pubSigAlgo, err = crypto.ParseSigAlgo(cfg.PublishSigningAlgorithm); err != nil {
		return nil, fmt.Errorf("master: publish_signing_algorithm: %w", err)
	}
	for _, d := range []string{cfg.CacheDir, cfg.SockDir, filepath.Join(cfg.CacheDir, "sessions")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("master: %w", err)
		}
	}
	if m.keys, err = pki.Open(cfg.PKIDir); err != nil {
		return nil, fmt.Errorf("master: opening pki_dir: %w", err)
	}
	if err := m.loadKeys(); err != nil {
		return nil, err
	}
	if err := m.writeRootKeys(); err != nil {
		return nil, err
	}
	if m.aes, err = newAESKeys(m.rand, m.priv); err != nil {
		return nil, err
	}
	m.sessions = newSessions(filepath.Join(cfg.CacheDir, "sessions"), time.Duration(cfg.PublishSession)*time.Second, m.rand)
	m.toks = newTokCache()
	m.replays = newReplayGuard()
	m.returnSlots = make(slots, maxWaitingReturns)
	if m.mcache, err = mcache.Open(filepath.Join(cfg.CacheDir, "minions")); err != nil {
		return nil, fmt.Errorf("master: minion data cache: %w", err)
	}
	if m.files, m.pillars, err = newFileServices(cfg, log); err != nil {
		return nil, err
	}
	m.jobs = jobcache.Null()
	if cfg.JobCache {
		if m.jobs, err = jobcache.OpenBolt(filepath.Join(cfg.CacheDir, jobCacheFile), time.Duration(cfg.KeepJobsSeconds)*time.Second); err != nil {
			return nil, fmt.Errorf("master: job cache: %w", err)
		}
	}

	opts := transportOptions(cfg, log)
	busOpts := opts
	busOpts.SendHWM = eventBusHWM
	if m.bus, err = transport.NewEventPublisher(cfg.SockDir, busOpts); err != nil {
		m.jobs.Close()
		return nil, fmt.Errorf("master: event bus: %w", err)
	}
	m.events = events.NewLocalFirer(m.bus)
	if o.PublishDaemon != nil {
		if m.daemon, err = startPublishDaemon(o.PublishDaemon, log); err == nil {
			m.publisher, err = transport.NewPublisher(transport.PublisherConfig{
				Pull:      "ipc://" + filepath.Join(cfg.SockDir, transport.PublishPullFile),
				Forward:   "ipc://" + filepath.Join(cfg.SockDir, transport.PublishDaemonFile),
				Transform: m.wrapPublication,
				Options:   opts,
			})
		}
	} else {
		m.publisher, err = transport.NewMasterPublisher(cfg.SockDir, cfg.Endpoint(cfg.PublishPort), m.wrapPublication, opts)
	}
	if err != nil {
		m.stopDaemon()
		m.bus.Close()
		m.jobs.Close()
		return nil, fmt.Errorf("master: publisher: %w", err)
	}
	m.server, err = transport.NewReqServer(transport.ReqServerConfig{
		Addr:       cfg.Endpoint(cfg.RetPort),
		Workers:    cfg.WorkerThreads,
		Handler:    m.handle,
		ErrorReply: func(error) []byte { return errorReply("Server-side exception handling payload") },
		Options:    opts,
	})
	if err != nil {
		m.bus.Close()
		m.publisher.Close()
		m.stopDaemon()
		m.jobs.Close()
		return nil, fmt.Errorf("master: request server: %w", err)
	}
	if err := m.openMetrics(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Master) stopDaemon() {
	if m.daemon != nil {
		m.daemon.stop(m.log)
	}
}

// Close releases what New opened, for a master that is never run (Run
// releases everything itself when it returns).
func (m *Master) Close() error {
	m.bus.Close()
	m.publisher.Close()
	m.stopDaemon()
	m.server.Close()
	if m.metricsLn != nil {
		m.metricsLn.Close()
	}
	return m.jobs.Close()
}

// RetAddr and PublishAddr return the bound tcp addresses of the two ports.
func (m *Master) RetAddr() net.Addr { return m.server.Addr() }
func (m *Master) PublishAddr() net.Addr {
	if m.daemon != nil {
		return m.daemon.addr
	}
	return m.publisher.PubAddr()
}

// runnerGrace bounds how long a stopping master waits for the runners in
// flight (well inside systemd's 90 s stop timeout).
const runnerGrace = 30 * time.Second

// Run serves until ctx ends, then shuts down: it lets the runners in
// flight finish (up to runnerGrace, still serving the returns they wait
// for, and refusing new ones), stops taking requests, answers those in
// flight, closes every socket and the job cache.
func (m *Master) Run(stop context.Context) error {
	serve, stopServing := context.WithCancel(context.WithoutCancel(stop))
	defer stopServing()
	m.runCtx = serve
	m.log.Info("master: serving", "ret", m.server.Addr().String(), "publish", m.PublishAddr().String(), "sock_dir", m.cfg.SockDir)
	g, ctx := errgroup.WithContext(serve)
	g.Go(func() error {
		select {
		case <-stop.Done():
			m.drainRunners()
			stopServing()
		case <-ctx.Done(): // a part failed
		}
		return nil
	})
	var pprofLn net.Listener
	if m.cfg.PprofAddr != "" {
		var err error
		if pprofLn, err = net.Listen("tcp", m.cfg.PprofAddr); err != nil {
			stopServing()
			g.Wait()
			return fmt.Errorf("master: pprof_addr: %w", err)
		}
		g.Go(func() error { return pprofhttp.Serve(ctx, pprofLn, m.log) })
	}
	g.Go(func() error { return m.bus.Serve(ctx) })
	g.Go(func() error { return m.publisher.Serve(ctx) })
	g.Go(func() error { return m.server.Serve(ctx) })
	g.Go(func() error { return m.maintain(ctx) })
	if m.daemon != nil {
		g.Go(func() error { return m.daemon.watch(ctx) })
	}
	if m.metrics != nil {
		g.Go(func() error { return m.metrics.Serve(ctx, m.metricsLn, m.log) })
	}
	err := g.Wait()
	m.stopDaemon() // after the publisher has handed it everything
	m.runnersWG.Wait()
	if cerr := m.jobs.Close(); err == nil {
		err = cerr
	}
	return err
}

// drainRunners refuses new runners and waits up to runnerGrace for those
// running.
func (m *Master) drainRunners() {
	m.runnersMu.Lock()
	m.draining = true
	m.runnersMu.Unlock()
	done := make(chan struct{})
	go func() { m.runnersWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(runnerGrace):
		m.log.Warn("master: stopping with runners still running", "waited", runnerGrace)
	}
}

// startRunner counts a runner in, unless the master is stopping.
func (m *Master) startRunner() bool {
	m.runnersMu.Lock()
	defer m.runnersMu.Unlock()
	if m.draining {
		return false
	}
	m.runnersWG.Add(1)
	return true
}

// loadKeys reads master.pem (generating the pair on first start) and the
// optional master_sign pair.
func (m *Master) loadKeys() error {
	priv, err := loadOrCreateKey(m.rand, m.cfg.PKIDir, "master", m.cfg.KeySize, m.log)
	if err != nil {
		return err
	}
	m.priv = priv
	m.pubPEM = crypto.CleanKey(crypto.PublicKeyPEM(&priv.PublicKey))
	if !m.cfg.MasterSignPubkey {
		return nil
	}
	if m.cfg.MasterUsePubkeySignature {
		b, err := os.ReadFile(filepath.Join(m.cfg.PKIDir, m.cfg.MasterPubkeySignature))
		if err != nil {
			return fmt.Errorf("master: master_use_pubkey_signature: %w", err)
		}
		m.signPub = string(b)
		return nil
	}
	signKey, err := loadOrCreateKey(m.rand, m.cfg.PKIDir, m.cfg.MasterSignKeyName, m.cfg.KeySize, m.log)
	if err != nil {
		return err
	}
	sig, err := crypto.Sign(signKey, crypto.PKCS1v15SHA1, []byte(m.pubPEM))
	if err != nil {
		return err
	}
	// Salt sends binascii.b2a_base64 of the signature: base64 and "\n".
	m.signPub = base64Line(sig)
	return nil
}

// loadOrCreateKey reads <dir>/<name>.pem, or makes the pair <name>.pem
// (0400) and <name>.pub (0644) when neither exists.
func loadOrCreateKey(rnd io.Reader, dir, name string, bits int, log *slog.Logger) (*rsa.PrivateKey, error) {
	pemPath := filepath.Join(dir, name+".pem")
	priv, err := crypto.ReadPrivateKey(pemPath)
	if err == nil {
		return priv, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("master: reading %s: %w", pemPath, err)
	}
	log.Info("master: generating key pair", "path", pemPath, "bits", bits)
	if priv, err = crypto.GenerateKey(rnd, bits); err != nil {
		return nil, err
	}
	if err := crypto.WritePrivateKey(pemPath, priv); err != nil {
		return nil, fmt.Errorf("master: %w", err)
	}
	if err := crypto.WritePublicKey(filepath.Join(dir, name+".pub"), &priv.PublicKey); err != nil {
		return nil, fmt.Errorf("master: %w", err)
	}
	return priv, nil
}

// writeRootKeys writes the keys local clients prove themselves with:
// cachedir/.root_key, and .<user>_key for the user the master runs as,
// new at every start, mode 0600.
func (m *Master) writeRootKeys() error {
	m.rootKeys = make(map[string]string)
	users := []string{"root"}
	if u, err := user.Current(); err == nil && u.Username != "root" {
		users = append(users, u.Username)
	}
	for _, u := range users {
		key, err := crypto.GenerateCrypticleKey(m.rand)
		if err != nil {
			return err
		}
		path := filepath.Join(m.cfg.CacheDir, "."+u+"_key")
		os.Remove(path) // it may be 0400 from an older master
		if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
			return fmt.Errorf("master: writing %s: %w", path, err)
		}
		m.rootKeys[u] = key
	}
	return nil
}

// maintain rotates the AES key every publish_session, and when brine-key
// drops the .dfn file after deleting or rejecting a key (rotate_aes_key).
func (m *Master) maintain(ctx context.Context) error {
	rotateEvery := time.Duration(m.cfg.PublishSession) * time.Second
	rotate := time.NewTimer(rotateEvery)
	defer rotate.Stop()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	// Salt checks for old jobs every hour (loop_interval × …); so do we.
	expire := time.NewTicker(time.Hour)
	defer expire.Stop()
	dfn := filepath.Join(m.cfg.CacheDir, ".dfn")
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rotate.C:
			m.rotateAES(ctx, "publish_session elapsed")
			rotate.Reset(rotateEvery)
		case <-expire.C:
			if n, err := m.jobs.Expire(ctx, time.Now()); err != nil {
				m.log.Error("master: expiring old jobs", "err", err)
			} else if n > 0 {
				m.log.Info("master: expired old jobs", "jobs", n)
			}
		case <-poll.C:
			if _, err := os.Stat(dfn); err == nil {
				os.Remove(dfn)
				if m.cfg.RotateAESKey {
					m.rotateAES(ctx, "a minion key was deleted or rejected")
					rotate.Reset(rotateEvery)
				}
			}
		}
	}
}

func (m *Master) rotateAES(ctx context.Context, why string) {
	if err := m.aes.rotate(m.rand, m.priv); err != nil {
		m.log.Error("master: rotating the AES key", "err", err)
		return
	}
	m.log.Info("master: AES key rotated", "why", why)
	m.fire(ctx, "key", map[string]any{"rotate_aes_key": true})
}

// fire sends an event on the master bus; a failure is logged, not
// returned: events are best effort, as in Salt.
func (m *Master) fire(ctx context.Context, tag string, data map[string]any) {
	if err := m.events.Fire(ctx, tag, data); err != nil {
		m.log.Warn("master: firing event", "tag", tag, "err", err)
	}
}
