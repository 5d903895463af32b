// Package jobcache is the master's job cache: what Salt keeps under
// cachedir/jobs (local_cache, PROTOCOL.md §9). For each job it holds the
// publication load, the minions expected to answer and every minion's
// _return load, so that salt-run jobs.lookup_jid and jobs.list_jobs can
// answer after the CLI has gone.
//
// OpenBolt keeps everything in one bbolt file. Jobs are keyed by jid, and
// jids are timestamps that sort as strings, so the file is in time order:
// Jobs(since) is a range scan and Expire deletes from the oldest job and
// stops at the first one young enough to keep. A return is acknowledged to
// the minion only after AddReturn has returned, so AddReturn waits until its
// write is committed and synced to disk; concurrent calls share one commit
// (group commit), which is how 10,000 returns a second need far fewer
// fsyncs.
//
// Null is the cache of job_cache: False.
//
// Values are stored as Salt's local msgpack (wire.MarshalLocal) and read back
// with wire.Unmarshal, so they come back in the wire package's value model:
// every integer an int64 (uint64 above MaxInt64), every float a float64, and
// so on, not necessarily the Go types that were stored.
package jobcache

import (
	"context"
	"errors"
	"time"
)

// Job is a published job as the cache keeps it.
type Job struct {
	// JID is the job id; the cache accepts only jids whose digits are a
	// real time (jid.Time succeeds), since it orders and expires jobs by it.
	JID string
	// Load is the publication load (fun, arg, tgt, tgt_type, user, ...) as
	// published, minus serial.
	Load map[string]any
	// Minions are the minions expected to answer.
	Minions []string
	// StartTime is when the job was created, kept to the microsecond. The
	// zero time means the time the jid encodes.
	StartTime time.Time
}

// Cache stores jobs and their returns. Implementations are safe for
// concurrent use. Every method that blocks takes a ctx; when ctx ends first
// the method returns ctx.Err(), and a write may then have happened or not.
type Cache interface {
	// SaveJob stores j, replacing the record (not the returns) of a job
	// saved before under the same jid. It returns once the job is durable.
	SaveJob(ctx context.Context, j Job) error

	// AddReturn stores ret, the _return load of minion id for job jid, as
	// given. It returns nil only once the return is committed to disk, so
	// the master may acknowledge the return after it: an acknowledged
	// return survives the master being killed. A second return for the
	// same (jid, id) is not stored: the first stays and AddReturn returns
	// ErrDuplicate. A return may arrive for a jid that was never saved
	// (Job then reports ErrNotFound but Returns has it).
	AddReturn(ctx context.Context, jid, id string, ret map[string]any) error

	// Job returns the job saved under jid, or ErrNotFound.
	Job(ctx context.Context, jid string) (Job, error)

	// HasJob reports whether a job was saved under jid, without decoding
	// it (the master asks on every return).
	HasJob(ctx context.Context, jid string) (bool, error)

	// Returns returns the return loads of job jid by minion id: an empty
	// map for a job without returns yet, ErrNotFound for a jid the cache
	// knows nothing about.
	Returns(ctx context.Context, jid string) (map[string]map[string]any, error)

	// Jobs returns, oldest first (in jid order, which is also how
	// salt-run jobs.list_jobs prints them), every saved job whose jid
	// encodes a time at or after since; the zero since means all of them.
	Jobs(ctx context.Context, since time.Time) ([]Job, error)

	// Expire deletes the jobs, with their returns, whose jid encodes a time
	// more than the keep duration before now (keep_jobs_seconds), and
	// returns how many it deleted. A keep of 0 keeps jobs forever, as in
	// Salt. (Salt ages a job by the ctime of its jid file, the moment it
	// was saved; for jids the master makes that is the jid's time, and the
	// jid lets Expire stop at the first young job.) It deletes in transactions of bounded size, so on an error
	// some jobs may be gone already (the count says how many).
	Expire(ctx context.Context, now time.Time) (int, error)

	// Close waits for writes in progress and closes the cache. Calls
	// after Close fail with ErrClosed.
	Close() error
}

var (
	// ErrNotFound is returned by Job and Returns for an unknown jid.
	ErrNotFound = errors.New("jobcache: job not found")
	// ErrDuplicate is returned by AddReturn when the minion has returned
	// for the job before; the first return is kept.
	ErrDuplicate = errors.New("jobcache: duplicate return")
	// ErrClosed is returned by the methods of an OpenBolt cache after
	// Close (a second Close returns nil).
	ErrClosed = errors.New("jobcache: cache closed")
)

// Null returns the cache of job_cache: False: saving succeeds and keeps
// nothing, lookups return ErrNotFound, Jobs returns none and Expire deletes
// none. It never returns ErrDuplicate, so it does not de-duplicate returns.
func Null() Cache { return null{} }

type null struct{}

func (null) SaveJob(context.Context, Job) error                              { return nil }
func (null) AddReturn(context.Context, string, string, map[string]any) error { return nil }
func (null) Job(context.Context, string) (Job, error)                        { return Job{}, ErrNotFound }
func (null) HasJob(context.Context, string) (bool, error)                    { return false, nil }
func (null) Returns(context.Context, string) (map[string]map[string]any, error) {
	return nil, ErrNotFound
}
func (null) Jobs(context.Context, time.Time) ([]Job, error) { return nil, nil }
func (null) Expire(context.Context, time.Time) (int, error) { return 0, nil }
func (null) Close() error                                   { return nil }
