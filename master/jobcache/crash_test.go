package jobcache

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestCrash kills a process that is streaming returns into the cache and
// checks that every return AddReturn had acknowledged is in the file, and
// that the file is consistent.
//
// The child is this test binary again, started with crashChildEnv set (see
// TestMain). It opens the cache, saves its jobs, prints "ready", then has 16
// goroutines call AddReturn in a loop and print "<jid> <id>" each time a
// call returns nil. The parent reads those lines and sends SIGKILL once it
// has read a given number of them, then reads the rest of the pipe: every
// complete line in it is a return that was acknowledged before the kill.
// Kill points are counts of lines, not timers, so every round kills the
// child in the middle of the stream whatever the speed of the machine.
// Rounds share one file, so each child also opens a file its killed
// predecessor left behind, and every check covers the returns of all
// rounds so far.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "jobs.db")
	killAfter := []int{0, 1, 7, 64, 300, 1000, 2500, 5000}
	acked := map[[2]string]bool{} // {jid, id}
	for round, n := range killAfter {
		got := runAndKill(t, path, round, n)
		for _, a := range got {
			acked[a] = true
		}
		checkConsistent(t, path)
		extra := checkReturns(t, path, round, acked)
		t.Logf("round %d: SIGKILL after %d acknowledgments read; %d acknowledged this round, %d over all rounds, all found; %d more committed but not acknowledged",
			round, n, len(got), len(acked), extra)
	}
}

const (
	crashChildEnv   = "BRINE_JOBCACHE_CRASH_CHILD"
	crashRoundEnv   = "BRINE_JOBCACHE_CRASH_ROUND"
	crashWriters    = 16
	crashJobs       = 8       // jobs per round
	crashMaxReturns = 1000000 // a child that is never killed stops here
)

// crashJID is job k of round r.
func crashJID(r, k int) string {
	return jidAt(time.Duration(r)*time.Hour + time.Duration(k)*time.Millisecond)
}

// crashReturn is the return minion id sends for job j: a _return load with
// padding of a size that varies with id, so that commits span pages and
// the file grows (and bbolt remaps) while the children are killed.
func crashReturn(j, id string) map[string]any {
	ret := returnLoad(j, id)
	var w, i int
	fmt.Sscanf(id, "w%d-%d", &w, &i)
	ret["pad"] = strings.Repeat("x", (i*97+w*13)%3000)
	return ret
}

// crashChild is the child process of TestCrash; it never returns.
func crashChild(path string) {
	fail := func(code int, err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(code)
	}
	round, err := strconv.Atoi(os.Getenv(crashRoundEnv))
	if err != nil {
		fail(2, err)
	}
	c, err := OpenBolt(path, 0)
	if err != nil {
		fail(2, err)
	}
	ctx := context.Background()
	for k := range crashJobs {
		j := crashJID(round, k)
		if err := c.SaveJob(ctx, Job{JID: j, Load: publishLoad(j)}); err != nil {
			fail(3, err)
		}
	}
	var mu sync.Mutex // one line per write, lines never interleave
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := os.Stdout.WriteString(s); err != nil {
			fail(4, err)
		}
	}
	say("ready\n")
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for i := range crashMaxReturns / crashWriters {
				j := crashJID(round, i%crashJobs)
				id := fmt.Sprintf("w%02d-%06d", w, i)
				if err := c.AddReturn(ctx, j, id, crashReturn(j, id)); err != nil {
					fail(5, err)
				}
				say(j + " " + id + "\n")
			}
		})
	}
	wg.Wait()
	fail(6, fmt.Errorf("was not killed"))
}

// runAndKill runs one child for round and kills it after killAfter
// acknowledged lines; it returns every acknowledged (jid, id).
func runAndKill(t *testing.T, path string, round, killAfter int) [][2]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			cmd.Process.Kill() // SIGKILL
		}
	}
	defer kill()

	rd := bufio.NewReader(out)
	if line, err := rd.ReadString('\n'); line != "ready\n" {
		kill()
		cmd.Wait()
		t.Fatalf("round %d: child said %q (%v); stderr:\n%s", round, line, err, stderr.String())
	}
	if killAfter == 0 {
		kill()
	}
	var acked [][2]string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			// A last line without its newline was cut by the kill; it is
			// not an acknowledgment (lines are single writes, so this
			// does not happen in practice).
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		j, id, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !ok {
			t.Fatalf("round %d: bad line %q", round, line)
		}
		acked = append(acked, [2]string{j, id})
		if len(acked) == killAfter {
			kill()
		}
	}
	err = cmd.Wait()
	if st := cmd.ProcessState; st == nil || st.Exited() {
		t.Fatalf("round %d: the child was not killed but exited: %v; stderr:\n%s", round, err, stderr.String())
	}
	if len(acked) < killAfter {
		t.Fatalf("round %d: %d acknowledgments, fewer than the %d to kill at", round, len(acked), killAfter)
	}
	return acked
}

// checkConsistent runs bbolt's consistency check on the file.
func checkConsistent(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		ReadOnly: true, Timeout: time.Second,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		t.Fatalf("opening the file a killed child left: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkReturns reopens the cache and checks that it holds every
// acknowledged return, intact, and the jobs of every round up to round. It
// returns how many returns are stored beyond those acknowledged (committed
// while their acknowledgment was in flight).
func checkReturns(t *testing.T, path string, round int, acked map[[2]string]bool) int {
	t.Helper()
	c, err := OpenBolt(path, 0)
	if err != nil {
		t.Fatalf("reopening after the kill: %v", err)
	}
	defer c.Close()
	ctx := context.Background()
	stored := 0
	all := map[string]map[string]map[string]any{} // jid → returns
	for r := 0; r <= round; r++ {
		for k := range crashJobs {
			j := crashJID(r, k)
			if _, err := c.Job(ctx, j); err != nil {
				t.Errorf("job %s saved before ready: %v", j, err)
			}
			rets, err := c.Returns(ctx, j)
			if err != nil {
				t.Fatalf("returns of %s: %v", j, err)
			}
			all[j] = rets
			stored += len(rets)
			for id, ret := range rets {
				if !reflect.DeepEqual(ret, crashReturn(j, id)) {
					t.Errorf("return of %s for %s is not what was sent", id, j)
				}
			}
		}
	}
	for a := range acked {
		if _, ok := all[a[0]][a[1]]; !ok {
			t.Errorf("acknowledged return of %s for %s is lost", a[1], a[0])
		}
	}
	return stored - len(acked)
}
