package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Minion is the minion's configuration, with Salt's key names. Durations
// are whole seconds (recon_* are milliseconds), as in Salt.
type Minion struct {
	// ConfDir is the directory the configuration was read from (-c); the
	// grains file and minion_id live there, as in Salt.
	ConfDir string `yaml:"-"`
	// Files are the files it was read from, in the order read.
	Files []string `yaml:"-"`

	RootDir string `yaml:"root_dir"`
	// DefaultInclude and Include name more files to read, relative to
	// the main file's directory (see the package doc).
	DefaultInclude string     `yaml:"default_include"`
	Include        StringList `yaml:"include"`
	Pidfile        string     `yaml:"pidfile" brine:"path"`
	ID             string     `yaml:"id"`
	PKIDir         string     `yaml:"pki_dir" brine:"path"`
	CacheDir       string     `yaml:"cachedir" brine:"path"`
	SockDir        string     `yaml:"sock_dir" brine:"path"`

	Master       string `yaml:"master"`
	MasterPort   int    `yaml:"master_port"`
	PublishPort  int    `yaml:"publish_port"`
	IPv6         bool   `yaml:"ipv6"`
	ZMQFiltering bool   `yaml:"zmq_filtering"`

	KeySize                int    `yaml:"keysize"`
	EncryptionAlgorithm    string `yaml:"encryption_algorithm"`
	SigningAlgorithm       string `yaml:"signing_algorithm"`
	SignPubMessages        bool   `yaml:"sign_pub_messages"`
	VerifyMasterPubkeySign bool   `yaml:"verify_master_pubkey_sign"`
	MasterSignKeyName      string `yaml:"master_sign_key_name"`
	MasterFinger           string `yaml:"master_finger"`
	HashType               string `yaml:"hash_type"`
	// FileBufferSize is the chunk size of cp.push, in bytes.
	FileBufferSize int `yaml:"file_buffer_size"`

	AcceptanceWaitTime    int  `yaml:"acceptance_wait_time"`
	AcceptanceWaitTimeMax int  `yaml:"acceptance_wait_time_max"`
	RandomReauthDelay     int  `yaml:"random_reauth_delay"`
	AuthTimeout           int  `yaml:"auth_timeout"`
	AuthTries             int  `yaml:"auth_tries"`
	RequestChannelTimeout int  `yaml:"request_channel_timeout"`
	RequestChannelTries   int  `yaml:"request_channel_tries"`
	ReconDefault          int  `yaml:"recon_default"`
	ReconMax              int  `yaml:"recon_max"`
	ReconRandomize        bool `yaml:"recon_randomize"`
	PingInterval          int  `yaml:"ping_interval"`
	ReturnRetryTries      int  `yaml:"return_retry_tries"`
	ReturnRetryTimer      int  `yaml:"return_retry_timer"`
	ReturnRetryTimerMax   int  `yaml:"return_retry_timer_max"`

	// Brine's own keys for liveness and limits (Salt has none).
	//
	// HeartbeatInterval: the minion PINGs the master on both its links
	// this often (seconds) and rebuilds a link silent for one and a half
	// times that; the master's PINGs and their TTL hold it to the same.
	// 0: off.
	HeartbeatInterval int `yaml:"heartbeat_interval"`
	// MaxMessageSize bounds one message from the master, in bytes.
	MaxMessageSize int64 `yaml:"max_message_size"`
	// ReturnSpoolSize bounds the returns kept on disk (cachedir/spool)
	// while the master cannot take them, in bytes; they go out when it is
	// back. 0: no spool, a return that cannot be delivered is dropped.
	ReturnSpoolSize int64 `yaml:"return_spool_size"`
	// MetricsPort, when not 0, serves Prometheus metrics over HTTP at
	// /metrics on MetricsInterface:MetricsPort. MetricsInterface defaults
	// to 127.0.0.1, reachable from this host only.
	MetricsPort      int    `yaml:"metrics_port"`
	MetricsInterface string `yaml:"metrics_interface"`

	// Grains are static grains: they override the ones the minion finds.
	Grains map[string]any `yaml:"grains"`

	Logging `yaml:",inline"`
}

// DefaultMinion returns Salt's minion defaults, with Brine's paths.
func DefaultMinion() Minion {
	return Minion{
		RootDir:               "/",
		DefaultInclude:        "minion.d/*.conf",
		Pidfile:               "/var/run/brine-minion.pid",
		PKIDir:                "/etc/brine/pki/minion",
		CacheDir:              "/var/cache/brine/minion",
		SockDir:               "/var/run/brine/minion",
		Master:                "salt",
		MasterPort:            4506,
		PublishPort:           4505,
		KeySize:               2048,
		EncryptionAlgorithm:   "OAEP-SHA1",
		SigningAlgorithm:      "PKCS1v15-SHA1",
		MasterSignKeyName:     "master_sign",
		HashType:              "sha256",
		FileBufferSize:        262144,
		AcceptanceWaitTime:    10,
		RandomReauthDelay:     10,
		AuthTimeout:           5,
		AuthTries:             7,
		RequestChannelTimeout: 60,
		RequestChannelTries:   3,
		ReconDefault:          1000,
		ReconMax:              10000,
		ReconRandomize:        true,
		ReturnRetryTries:      3,
		ReturnRetryTimer:      5,
		ReturnRetryTimerMax:   10,
		HeartbeatInterval:     10,
		MaxMessageSize:        64 << 20,
		ReturnSpoolSize:       64 << 20,
		MetricsInterface:      "127.0.0.1",
		Logging:               defaultLogging("/var/log/brine/minion"),
	}
}

// LoadMinion reads <dir>/minion, the files of its default_include
// (minion.d/*.conf) and of its include, over the defaults. Without an id
// it takes <dir>/minion_id, else the host name (which it then caches in
// <dir>/minion_id when it can, as Salt does, so that a later rename of
// the host does not change the minion's identity).
func LoadMinion(dir string) (*Minion, []Warning, error) {
	c := DefaultMinion()
	c.ConfDir = dir
	l := newLoader(&c)
	if err := l.load(&c, dir, "minion", c.DefaultInclude); err != nil {
		return nil, nil, err
	}
	warns := l.warns
	c.Files = l.files
	var err error
	if c.ID == "" {
		if c.ID, err = minionID(dir); err != nil {
			return nil, nil, err
		}
	}
	if err := c.validate(); err != nil {
		return nil, nil, err
	}
	reroot(&c, c.RootDir)
	return &c, warns, nil
}

func minionID(dir string) (string, error) {
	cache := filepath.Join(dir, "minion_id")
	if b, err := os.ReadFile(cache); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "", fmt.Errorf("config: no id set and no host name to use: %v", err)
	}
	os.WriteFile(cache, []byte(host+"\n"), 0o644) // best effort, like Salt's minion_id_caching
	return host, nil
}

func (c *Minion) validate() error {
	if !filepath.IsAbs(c.RootDir) {
		return fmt.Errorf("config: root_dir %q must be an absolute path", c.RootDir)
	}
	if err := c.Logging.validate(); err != nil {
		return err
	}
	if c.Master == "" {
		return fmt.Errorf("config: master must name the master's host")
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"master_port", c.MasterPort}, {"publish_port", c.PublishPort}} {
		if p.v < 1 || p.v > 65535 {
			return fmt.Errorf("config: %s %d is not a port", p.name, p.v)
		}
	}
	if c.KeySize < 2048 {
		return fmt.Errorf("config: keysize %d is under 2048", c.KeySize)
	}
	if c.AuthTries < 1 || c.RequestChannelTries < 1 {
		return fmt.Errorf("config: auth_tries and request_channel_tries must be at least 1")
	}
	if c.AuthTimeout < 1 || c.RequestChannelTimeout < 1 {
		return fmt.Errorf("config: auth_timeout and request_channel_timeout must be at least 1")
	}
	if c.FileBufferSize < 1 {
		return fmt.Errorf("config: file_buffer_size must be at least 1")
	}
	return nil
}

// YAML is the configuration as --print-config shows it: every key with
// Salt's name, sorted.
func (c *Minion) YAML() ([]byte, error) { return marshal(c) }

// RetEndpoint and PublishEndpoint are the master's two ports.
func (c *Minion) RetEndpoint() string     { return tcpEndpoint(c.Master, c.MasterPort) }
func (c *Minion) PublishEndpoint() string { return tcpEndpoint(c.Master, c.PublishPort) }
