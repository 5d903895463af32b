package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
)

// Master is the master's configuration, with Salt's key names. Durations
// are whole seconds, as in Salt.
type Master struct {
	// ConfDir is the directory the configuration was read from (-c).
	ConfDir string `yaml:"-"`
	// Files are the files it was read from, in the order read.
	Files []string `yaml:"-"`

	RootDir string `yaml:"root_dir"`
	// DefaultInclude and Include name more files to read, relative to
	// the main file's directory (see the package doc).
	DefaultInclude string     `yaml:"default_include"`
	Include        StringList `yaml:"include"`
	// User is who the master runs as: started as root, brine-master
	// hands its directories to this user and drops to it before it
	// binds its ports, as salt-master does.
	User     string `yaml:"user"`
	Pidfile  string `yaml:"pidfile" brine:"path"`
	PKIDir   string `yaml:"pki_dir" brine:"path"`
	CacheDir string `yaml:"cachedir" brine:"path"`
	SockDir  string `yaml:"sock_dir" brine:"path"`

	Interface     string `yaml:"interface"`
	IPv6          bool   `yaml:"ipv6"`
	PublishPort   int    `yaml:"publish_port"`
	RetPort       int    `yaml:"ret_port"`
	WorkerThreads int    `yaml:"worker_threads"`
	ZMQFiltering  bool   `yaml:"zmq_filtering"`

	KeySize        int    `yaml:"keysize"`
	AutoAccept     bool   `yaml:"auto_accept"`
	AutosignFile   string `yaml:"autosign_file" brine:"path"`
	AutorejectFile string `yaml:"autoreject_file" brine:"path"`
	OpenMode       bool   `yaml:"open_mode"`
	AuthMode       int    `yaml:"auth_mode"`
	MaxMinions     int    `yaml:"max_minions"`
	AuthEvents     bool   `yaml:"auth_events"`
	HashType       string `yaml:"hash_type"`

	PublishSession           int    `yaml:"publish_session"`
	RotateAESKey             bool   `yaml:"rotate_aes_key"`
	SignPubMessages          bool   `yaml:"sign_pub_messages"`
	PublishSigningAlgorithm  string `yaml:"publish_signing_algorithm"`
	MasterSignPubkey         bool   `yaml:"master_sign_pubkey"`
	MasterSignKeyName        string `yaml:"master_sign_key_name"`
	MasterUsePubkeySignature bool   `yaml:"master_use_pubkey_signature"`
	MasterPubkeySignature    string `yaml:"master_pubkey_signature"`
	RequestServerTTL         int    `yaml:"request_server_ttl"`

	KeepJobsSeconds  int  `yaml:"keep_jobs_seconds"`
	JobCache         bool `yaml:"job_cache"`
	GatherJobTimeout int  `yaml:"gather_job_timeout"`

	// Nodegroups maps a name to a compound target (a string) or a list of
	// ids and targets, as in Salt.
	Nodegroups map[string]any `yaml:"nodegroups"`

	// FileRoots and PillarRoots map an environment (saltenv) to the
	// directories of its files, searched in order. Unlike Salt, Brine puts
	// them under root_dir like its other paths.
	FileRoots              map[string][]string `yaml:"file_roots" brine:"path"`
	PillarRoots            map[string][]string `yaml:"pillar_roots" brine:"path"`
	TopFileMergingStrategy string              `yaml:"top_file_merging_strategy"`
	// PillarSourceMergingStrategy is how pillar SLS files merge: smart
	// (recurse for Brine's renderers), recurse, overwrite, none,
	// aggregate (overwrite without yamlex) or list.
	PillarSourceMergingStrategy string `yaml:"pillar_source_merging_strategy"`
	PillarMergeLists            bool   `yaml:"pillar_merge_lists"`
	// PillarSafeRenderError hides the renderer's error text from the
	// minion (it goes to the master's log); false sends it in _errors.
	PillarSafeRenderError bool `yaml:"pillar_safe_render_error"`
	// FileBufferSize is the chunk size of _serve_file, in bytes.
	FileBufferSize int `yaml:"file_buffer_size"`
	// FileRecv lets minions push files (cp.push) into
	// cachedir/minions/<id>/files, each at most FileRecvMaxSize MiB.
	FileRecv        bool `yaml:"file_recv"`
	FileRecvMaxSize int  `yaml:"file_recv_max_size"`

	// PprofAddr, when set (e.g. 127.0.0.1:6060), serves Go's pprof
	// profiles over HTTP there: for profiling, never on a public address.
	PprofAddr string `yaml:"pprof_addr"`
	// MetricsPort, when not 0, serves Prometheus metrics over HTTP at
	// /metrics on MetricsInterface:MetricsPort (Brine's own keys).
	// MetricsInterface defaults to 127.0.0.1, reachable from this host
	// only: set it to 0.0.0.0 for a Prometheus server elsewhere.
	MetricsPort      int    `yaml:"metrics_port"`
	MetricsInterface string `yaml:"metrics_interface"`

	// Brine's own keys for liveness and limits (Salt has none).
	//
	// HeartbeatInterval: every this many seconds the master sends each
	// connected minion a ZMTP PING whose TTL is one and a half times
	// that, and drops a connection silent for as long: stock salt-minions
	// (libzmq) answer PINGs and honour the TTL, so they too notice a dead
	// link. 0: off.
	HeartbeatInterval int `yaml:"heartbeat_interval"`
	// MaxMessageSize bounds one message from a minion or client, in bytes;
	// a larger one closes its connection.
	MaxMessageSize int64 `yaml:"max_message_size"`
	// MaxPendingKeys bounds minions_pre/: past it new keys are refused
	// (as max_minions refuses accepted ones), so a flood of ids cannot
	// fill the disk. 0: no bound.
	MaxPendingKeys int `yaml:"max_pending_keys"`
	// AuthQueueTimeout: an _auth that waited this many seconds for a
	// worker is answered "retry later" at once instead of authenticated,
	// so an auth storm turns into minions waiting, not timing out.
	AuthQueueTimeout float64 `yaml:"auth_queue_timeout"`

	Logging `yaml:",inline"`
}

// DefaultMaster returns Salt's master defaults, with Brine's paths.
func DefaultMaster() Master {
	return Master{
		RootDir:                 "/",
		DefaultInclude:          "master.d/*.conf",
		User:                    "root",
		Pidfile:                 "/var/run/brine-master.pid",
		PKIDir:                  "/etc/brine/pki/master",
		CacheDir:                "/var/cache/brine/master",
		SockDir:                 "/var/run/brine/master",
		Interface:               "0.0.0.0",
		PublishPort:             4505,
		RetPort:                 4506,
		WorkerThreads:           5,
		KeySize:                 2048,
		AutosignFile:            "/etc/brine/autosign.conf",
		AutorejectFile:          "/etc/brine/autoreject.conf",
		AuthMode:                1,
		AuthEvents:              true,
		HashType:                "sha256",
		PublishSession:          86400,
		RotateAESKey:            true,
		SignPubMessages:         true,
		PublishSigningAlgorithm: "PKCS1v15-SHA1",
		MasterSignKeyName:       "master_sign",
		MasterPubkeySignature:   "master_pubkey_signature",
		KeepJobsSeconds:         86400,
		GatherJobTimeout:        10,
		JobCache:                true,
		FileRoots:               map[string][]string{"base": {"/srv/salt", "/srv/spm/salt"}},
		PillarRoots:             map[string][]string{"base": {"/srv/pillar", "/srv/spm/pillar"}},
		TopFileMergingStrategy:  "merge",

		PillarSourceMergingStrategy: "smart",
		PillarSafeRenderError:       true,
		FileBufferSize:              1048576,
		FileRecvMaxSize:             100,
		HeartbeatInterval:           10,
		MaxMessageSize:              64 << 20,
		MaxPendingKeys:              10000,
		AuthQueueTimeout:            2,
		MetricsInterface:            "127.0.0.1",
		Logging:                     defaultLogging("/var/log/brine/master"),
	}
}

// LoadMaster reads <dir>/master, the files of its default_include
// (master.d/*.conf) and of its include, over the defaults. Missing files
// are fine: the defaults stand.
func LoadMaster(dir string) (*Master, []Warning, error) {
	c := DefaultMaster()
	c.ConfDir = dir
	l := newLoader(&c)
	if err := l.load(&c, dir, "master", c.DefaultInclude); err != nil {
		return nil, nil, err
	}
	warns := l.warns
	c.Files = l.files
	if err := c.validate(); err != nil {
		return nil, nil, err
	}
	reroot(&c, c.RootDir)
	return &c, warns, nil
}

func (c *Master) validate() error {
	if !filepath.IsAbs(c.RootDir) {
		return fmt.Errorf("config: root_dir %q must be an absolute path", c.RootDir)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"publish_port", c.PublishPort}, {"ret_port", c.RetPort}} {
		if p.v < 0 || p.v > 65535 {
			return fmt.Errorf("config: %s %d is not a port", p.name, p.v)
		}
	}
	if err := c.Logging.validate(); err != nil {
		return err
	}
	if c.WorkerThreads < 1 {
		return fmt.Errorf("config: worker_threads must be at least 1")
	}
	if c.KeySize < 2048 {
		return fmt.Errorf("config: keysize %d is under 2048", c.KeySize)
	}
	if c.PublishSession < 1 {
		return fmt.Errorf("config: publish_session must be positive")
	}
	switch c.PillarSourceMergingStrategy {
	case "smart", "recurse", "overwrite", "none", "aggregate", "list":
	default:
		return fmt.Errorf("config: pillar_source_merging_strategy %q is not one of smart, recurse, overwrite, none, aggregate, list", c.PillarSourceMergingStrategy)
	}
	switch c.TopFileMergingStrategy {
	case "merge", "same", "merge_all":
	default:
		return fmt.Errorf("config: top_file_merging_strategy %q is not one of merge, same, merge_all", c.TopFileMergingStrategy)
	}
	if c.FileBufferSize < 1 {
		return fmt.Errorf("config: file_buffer_size must be at least 1")
	}
	if c.FileRecvMaxSize < 0 {
		return fmt.Errorf("config: file_recv_max_size must not be negative")
	}
	for name, roots := range map[string]map[string][]string{"file_roots": c.FileRoots, "pillar_roots": c.PillarRoots} {
		for env, dirs := range roots {
			if env == "" {
				return fmt.Errorf("config: %s has an empty environment name", name)
			}
			for _, d := range dirs {
				if d == "" {
					return fmt.Errorf("config: %s: environment %q has an empty directory", name, env)
				}
			}
		}
	}
	return nil
}

// YAML is the configuration as --print-config shows it: every key with
// Salt's name, sorted.
func (c *Master) YAML() ([]byte, error) { return marshal(c) }

// Endpoint returns the tcp endpoint of one of the master's ports on its
// interface.
func (c *Master) Endpoint(port int) string {
	return tcpEndpoint(c.Interface, port)
}

func tcpEndpoint(host string, port int) string {
	if host == "" {
		host = "*"
	}
	return "tcp://" + net.JoinHostPort(host, strconv.Itoa(port))
}
