package jobcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/brine-project/brine/internal/jid"
	"github.com/brine-project/brine/transport/wire"
)

// The file's layout:
//
//	jobs/                 bucket, one nested bucket per job, keyed by jid
//	  <jid>/
//	    job               msgpack {"load": map, "minions": [str], "start": int µs since the epoch}
//	    returns/          bucket: minion id → msgpack of the _return load
//
// A job's bucket exists once its job was saved or a return arrived for it.
var (
	bucketJobs    = []byte("jobs")
	keyJob        = []byte("job")
	bucketReturns = []byte("returns")
)

const (
	// maxBatchOps and maxBatchBytes bound one group commit: a bigger batch
	// would make its callers wait longer than one more fsync would.
	maxBatchOps   = 4096
	maxBatchBytes = 16 << 20
	// expireChunk is how many jobs Expire deletes in one transaction.
	expireChunk = 256
	// readChunk is how many jobs Jobs decodes in one read transaction, so
	// that a long listing does not hold a read transaction for long (bbolt
	// cannot grow its mmap while one is open).
	readChunk = 1024
	// lockTimeout is how long OpenBolt waits for another process's lock on
	// the file before it gives up.
	lockTimeout = 2 * time.Second
	// maxIDLen bounds minion ids, as a file name is bounded.
	maxIDLen = 255
)

// boltCache is the Cache of OpenBolt.
//
// Writes go through one goroutine (run), the writer: a caller hands it an
// op on the unbuffered ops channel and waits on the op's done channel. The
// writer takes one op, then every op already waiting (up to maxBatchOps),
// applies them all in one bbolt transaction, commits (bbolt fdatasyncs the
// file before and after writing its meta page) and then answers every op.
// While it commits, new ops queue up and form the next batch, so the number
// of commits adapts to the disk: one writer gets one commit per call with no
// added delay, many writers share commits. bbolt's own DB.Batch would do the
// grouping too, but it waits up to MaxBatchDelay (10 ms) for a batch to
// fill, which caps a lone writer at 100 returns a second, and it re-runs the
// whole batch when one call fails (as a duplicate would).
type boltCache struct {
	db   *bolt.DB
	keep time.Duration

	ops  chan *op      // unbuffered: a send succeeds only when the writer takes the op
	quit chan struct{} // closed by Close
	wg   sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	commits atomic.Int64 // group commits so far, for benchmarks
}

// op is one write for the writer. Its apply must leave the transaction
// unchanged when it returns an error: the other ops of the batch commit.
type op struct {
	jid  []byte
	id   []byte // a minion id for a return, nil for a job record
	val  []byte // msgpack; alive until the commit, as bbolt requires
	err  error  // set by the writer
	done chan error
}

var donePool = sync.Pool{New: func() any { return make(chan error, 1) }}

// OpenBolt opens (or creates, mode 0600, with its directory 0700) the bbolt
// file at path as a Cache that keeps jobs for keep (keep_jobs_seconds; 0
// keeps them forever). A file left by a master that was killed opens as of
// its last commit: bbolt writes a commit's pages, syncs them, and only then
// writes and syncs the meta page that points at them. If another process
// has the file open, OpenBolt fails after a few seconds.
func OpenBolt(path string, keep time.Duration) (Cache, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("jobcache: creating %s: %w", dir, err)
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: lockTimeout,
		// As etcd does: do not write the freelist at every commit (fewer
		// pages per commit); bbolt rebuilds it by scanning at open.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("jobcache: opening %s: the file is locked (is another master running with this cachedir?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("jobcache: opening %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketJobs)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("jobcache: initializing %s: %w", path, err)
	}
	if created {
		// The new file's name must reach the disk too, or a power loss
		// could take the whole file, acknowledged returns included.
		if err := syncDir(dir); err != nil {
			db.Close()
			return nil, fmt.Errorf("jobcache: syncing %s: %w", dir, err)
		}
	}
	c := &boltCache{
		db:   db,
		keep: keep,
		ops:  make(chan *op),
		quit: make(chan struct{}),
	}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// run is the writer goroutine; Close stops it.
func (c *boltCache) run() {
	defer c.wg.Done()
	batch := make([]*op, 0, 64)
	for {
		select {
		case o := <-c.ops:
			batch = append(batch[:0], o)
		case <-c.quit:
			return
		}
		size := len(batch[0].val)
	drain:
		for len(batch) < maxBatchOps && size < maxBatchBytes {
			select {
			case o := <-c.ops:
				batch = append(batch, o)
				size += len(o.val)
			default:
				break drain
			}
		}
		c.commit(batch)
		clear(batch) // drop references to the values
	}
}

// commit applies batch in one transaction and answers every op.
func (c *boltCache) commit(batch []*op) {
	err := c.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		for _, o := range batch {
			o.err = o.apply(jobs)
		}
		return nil
	})
	c.commits.Add(1)
	for _, o := range batch {
		if err != nil {
			o.err = fmt.Errorf("jobcache: committing: %w", err)
		}
		o.done <- o.err
	}
}

func (o *op) apply(jobs *bolt.Bucket) error {
	jb, err := jobs.CreateBucketIfNotExists(o.jid)
	if err != nil {
		return fmt.Errorf("jobcache: job %s: %w", o.jid, err)
	}
	if o.id == nil {
		return jb.Put(keyJob, o.val)
	}
	rb, err := jb.CreateBucketIfNotExists(bucketReturns)
	if err != nil {
		return fmt.Errorf("jobcache: job %s: %w", o.jid, err)
	}
	if rb.Get(o.id) != nil {
		return ErrDuplicate
	}
	return rb.Put(o.id, o.val)
}

// write hands o to the writer and waits for its commit.
func (c *boltCache) write(ctx context.Context, o *op) error {
	o.done = donePool.Get().(chan error)
	select {
	case c.ops <- o:
	case <-c.quit:
		donePool.Put(o.done)
		return ErrClosed
	case <-ctx.Done():
		donePool.Put(o.done)
		return ctx.Err()
	}
	select {
	case err := <-o.done:
		// Drained, so the channel is empty and can serve another op.
		donePool.Put(o.done)
		return err
	case <-ctx.Done():
		// The writer still answers into the buffered channel, which is
		// then dropped rather than reused.
		return ctx.Err()
	}
}

func (c *boltCache) closed() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// checkJID rejects a jid the cache could not order by time.
func checkJID(j string) error {
	if _, err := jid.Time(j); err != nil {
		return fmt.Errorf("jobcache: %q is not a jid with a valid time: %w", j, err)
	}
	return nil
}

func checkID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("jobcache: bad minion id %q (empty or longer than %d bytes)", id, maxIDLen)
	}
	return nil
}

func (c *boltCache) SaveJob(ctx context.Context, j Job) error {
	if err := checkJID(j.JID); err != nil {
		return err
	}
	start := j.StartTime
	if start.IsZero() {
		start, _ = jid.Time(j.JID)
	}
	rec := map[string]any{"start": start.UnixMicro()}
	// Left out when nil, so that nil comes back as nil, not as empty.
	if j.Load != nil {
		rec["load"] = j.Load
	}
	if j.Minions != nil {
		rec["minions"] = j.Minions
	}
	val, err := wire.MarshalLocal(rec)
	if err != nil {
		return fmt.Errorf("jobcache: encoding job %s: %w", j.JID, err)
	}
	return c.write(ctx, &op{jid: []byte(j.JID), val: val})
}

func (c *boltCache) AddReturn(ctx context.Context, j, id string, ret map[string]any) error {
	if err := checkJID(j); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	val, err := wire.MarshalLocal(ret)
	if err != nil {
		return fmt.Errorf("jobcache: encoding the return of %s for job %s: %w", id, j, err)
	}
	return c.write(ctx, &op{jid: []byte(j), id: []byte(id), val: val})
}

func (c *boltCache) view(ctx context.Context, fn func(jobs *bolt.Bucket) error) error {
	if c.closed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketJobs)) })
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func (c *boltCache) Job(ctx context.Context, j string) (Job, error) {
	var job Job
	err := c.view(ctx, func(jobs *bolt.Bucket) error {
		jb := jobs.Bucket([]byte(j))
		if jb == nil {
			return ErrNotFound
		}
		v := jb.Get(keyJob)
		if v == nil {
			return ErrNotFound
		}
		var err error
		job, err = decodeJob(j, v)
		return err
	})
	return job, err
}

func (c *boltCache) HasJob(ctx context.Context, j string) (bool, error) {
	var ok bool
	err := c.view(ctx, func(jobs *bolt.Bucket) error {
		if jb := jobs.Bucket([]byte(j)); jb != nil {
			ok = jb.Get(keyJob) != nil
		}
		return nil
	})
	return ok, err
}

func (c *boltCache) Returns(ctx context.Context, j string) (map[string]map[string]any, error) {
	var out map[string]map[string]any
	err := c.view(ctx, func(jobs *bolt.Bucket) error {
		jb := jobs.Bucket([]byte(j))
		if jb == nil {
			return ErrNotFound
		}
		rb := jb.Bucket(bucketReturns)
		if rb == nil {
			out = map[string]map[string]any{}
			return nil
		}
		out = make(map[string]map[string]any)
		return rb.ForEach(func(k, v []byte) error {
			// The decoder never aliases its input, so nothing here
			// points into the mmap once the transaction ends.
			ret, err := wire.UnmarshalMap(v)
			if err != nil {
				return fmt.Errorf("jobcache: decoding the return of %s for job %s: %w", k, j, err)
			}
			out[string(k)] = ret
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *boltCache) Jobs(ctx context.Context, since time.Time) ([]Job, error) {
	var out []Job
	var from []byte // the key to resume at
	if !since.IsZero() {
		// The first jid at or after since: round up to the microsecond.
		s := since.Truncate(time.Microsecond)
		if s.Before(since) {
			s = s.Add(time.Microsecond)
		}
		from = []byte(jid.FromTime(s))
	}
	for {
		var next []byte
		err := c.view(ctx, func(jobs *bolt.Bucket) error {
			cur := jobs.Cursor()
			var k []byte
			if from == nil {
				k, _ = cur.First()
			} else {
				k, _ = cur.Seek(from)
			}
			for n := 0; k != nil; k, _ = cur.Next() {
				if n == readChunk {
					next = bytes.Clone(k)
					return nil
				}
				jb := jobs.Bucket(k)
				if jb == nil {
					continue
				}
				v := jb.Get(keyJob)
				if v == nil {
					continue // returns only: no job was saved
				}
				job, err := decodeJob(string(k), v)
				if err != nil {
					return err
				}
				out = append(out, job)
				n++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if next == nil {
			return out, nil
		}
		from = next
	}
}

func (c *boltCache) Expire(ctx context.Context, now time.Time) (int, error) {
	if c.keep <= 0 {
		return 0, nil
	}
	cutoff := now.Add(-c.keep)
	total := 0
	for {
		if c.closed() {
			return total, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := c.expireChunk(cutoff)
		total += n
		if err != nil {
			return total, err
		}
		if n < expireChunk {
			return total, nil
		}
	}
}

// expireChunk deletes up to expireChunk jobs older than cutoff, oldest
// first, in one transaction.
func (c *boltCache) expireChunk(cutoff time.Time) (int, error) {
	n := 0
	err := c.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		// Collect first: deleting under a cursor makes it skip keys.
		var old [][]byte
		cur := jobs.Cursor()
		for k, _ := cur.First(); k != nil && len(old) < expireChunk; k, _ = cur.Next() {
			// Keys that are not jids cannot have been written by this
			// package; they go as well.
			if t, err := jid.Time(string(k)); err == nil && !t.Before(cutoff) {
				break
			}
			old = append(old, bytes.Clone(k))
		}
		for _, k := range old {
			var err error
			if jobs.Bucket(k) != nil {
				err = jobs.DeleteBucket(k)
			} else {
				err = jobs.Delete(k)
			}
			if err != nil {
				return fmt.Errorf("jobcache: deleting job %s: %w", k, err)
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			err = ErrClosed
		}
		return 0, err
	}
	return n, nil
}

// Close stops the writer after the batch it is committing, fails the writes
// still waiting with ErrClosed, waits for open read transactions and closes
// the file.
func (c *boltCache) Close() error {
	c.closeOnce.Do(func() {
		close(c.quit)
		c.wg.Wait()
		c.closeErr = c.db.Close()
	})
	return c.closeErr
}

func decodeJob(j string, v []byte) (Job, error) {
	m, err := wire.UnmarshalMap(v)
	if err != nil {
		return Job{}, fmt.Errorf("jobcache: decoding job %s: %w", j, err)
	}
	job := Job{JID: j}
	switch load := m["load"].(type) {
	case map[string]any:
		job.Load = load
	case nil:
	default:
		return Job{}, fmt.Errorf("jobcache: decoding job %s: load is a %T", j, load)
	}
	if ms, ok := m["minions"].([]any); ok {
		job.Minions = make([]string, 0, len(ms))
		for _, x := range ms {
			s, ok := x.(string)
			if !ok {
				return Job{}, fmt.Errorf("jobcache: decoding job %s: minion %v is a %T", j, x, x)
			}
			job.Minions = append(job.Minions, s)
		}
	}
	if us, ok := m["start"].(int64); ok {
		job.StartTime = time.UnixMicro(us).UTC()
	}
	return job, nil
}
