// Package test is Salt's test execution module: functions to check that a
// minion answers, to see how arguments arrive, and to exercise the return
// and retcode paths.
package test

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"time"

	"github.com/brine-project/brine/minion/grains"
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/internal/pydata"
	"github.com/brine-project/brine/transport/wire"
)

// SaltVersion is what test.version reports: the Salt release whose
// protocol and functions Brine provides.
const SaltVersion = grains.SaltVersion

// randIntN draws rand_sleep's seconds; tests replace it.
var randIntN = rand.Int64N

// Specs are the functions of the test module.
func Specs() []*modules.Spec {
	return []*modules.Spec{
		{Name: "test.ping", Doc: "Used to make sure the minion is up and responding. Not an ICMP ping.\n\nReturns True.\n\nCLI Example:\n\n    salt '*' test.ping",
			Fn: func(context.Context, *modules.Call) (any, error) { return true, nil }},
		{Name: "test.echo", Doc: "Return a string - used for testing the connection\n\nCLI Example:\n\n    salt '*' test.echo 'foo bar baz quo qux'",
			Params: []modules.Param{modules.P("text")},
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return c.Args["text"], nil }},
		{Name: "test.arg", Doc: "Print out the data passed into the function *args and kwargs, this is used to both test the publication data and CLI argument passing, but also to display the information available within the publication data.\n\nReturns {\"args\": args, \"kwargs\": kwargs}.\n\nCLI Example:\n\n    salt '*' test.arg 1 \"two\" 3.1 txt=\"hello\" wow='{a: 1, b: \"hello\"}'",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return map[string]any{"args": modules.AnyOrEmpty(c.VarArgs), "kwargs": c.Extra}, nil
			}},
		{Name: "test.arg_clean", Doc: "Like test.arg but cleans kwargs of the __pub* items\n\nCLI Example:\n\n    salt '*' test.arg_clean 1 \"two\" 3.1 txt=\"hello\" wow='{a: 1, b: \"hello\"}'",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return map[string]any{"args": modules.AnyOrEmpty(c.VarArgs), "kwargs": pydata.CleanKwargs(c.Extra)}, nil
			}},
		{Name: "test.arg_repr", Doc: "Print out the data passed into the function *args and kwargs, this is used to both test the publication data and CLI argument passing, but also to display the information available within the publication data.\n\nReturns {\"args\": repr(args), \"kwargs\": repr(kwargs)}.\n\nCLI Example:\n\n    salt '*' test.arg_repr 1 \"two\" 3.1 txt=\"hello\" wow='{a: 1, b: \"hello\"}'",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return map[string]any{"args": pydata.Repr(pydata.Tuple(c.VarArgs)), "kwargs": pydata.Repr(kwargsInOrder(c.Extra))}, nil
			}},
		{Name: "test.arg_type", Doc: "Print out the types of the args and kwargs. This is used to test the types of the args and kwargs passed down to the Minion\n\nCLI Example:\n\n    salt '*' test.arg_type 1 'int'",
			VarArgs: true, VarKw: true,
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				args := make([]any, len(c.VarArgs))
				for i, a := range c.VarArgs {
					args[i] = "<class '" + pydata.TypeName(a) + "'>"
				}
				kw := make(map[string]any, len(c.Extra))
				for k, v := range c.Extra {
					kw[k] = "<class '" + pydata.TypeName(v) + "'>"
				}
				return map[string]any{"args": args, "kwargs": kw}, nil
			}},
		{Name: "test.kwarg", Doc: "Print out the data passed into the function **kwargs, this is used to both test the publication data and CLI kwarg passing, but also to display the information available within the publication data.\n\nCLI Example:\n\n    salt '*' test.kwarg num=1 txt=\"two\" env='{a: 1, b: \"hello\"}'",
			VarKw: true,
			Fn:    func(_ context.Context, c *modules.Call) (any, error) { return c.Extra, nil }},
		{Name: "test.version", Doc: "Return the version of salt on the minion\n\nCLI Example:\n\n    salt '*' test.version",
			Fn: func(context.Context, *modules.Call) (any, error) { return SaltVersion, nil }},
		{Name: "test.versions_information", Doc: "Report the versions of dependent and system software\n\nCLI Example:\n\n    salt '*' test.versions_information",
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return versionsInformation(envGrains(c.Env)), nil
			}},
		{Name: "test.versions_report", Doc: versionsReportDoc("test.versions_report"),
			Fn: func(_ context.Context, c *modules.Call) (any, error) { return versionsReport(envGrains(c.Env)), nil }},
		{Name: "test.versions", Doc: "This function is an alias of versions_report.\n\n" + versionsReportDoc("test.versions"),
			Fn: func(_ context.Context, c *modules.Call) (any, error) { return versionsReport(envGrains(c.Env)), nil }},
		{Name: "test.sleep", Doc: "Instruct the minion to initiate a process that will sleep for a given period of time.\n\nCLI Example:\n\n    salt '*' test.sleep 20",
			Params: []modules.Param{modules.P("length")},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				n, err := pydata.Int(c.Args["length"])
				if err != nil {
					return pydata.RaiseErr(c, err)
				}
				return sleep(ctx, c, n)
			}},
		{Name: "test.rand_sleep", Doc: "Sleep for a random number of seconds, used to test long-running commands and minions returning at differing intervals\n\nCLI Example:\n\n    salt '*' test.rand_sleep 60",
			Params: []modules.Param{modules.D("max", int64(60))},
			Fn: func(ctx context.Context, c *modules.Call) (any, error) {
				hi, err := pydata.Int(c.Args["max"])
				if err != nil {
					return pydata.RaiseErr(c, err)
				}
				if hi < 0 || hi == math.MaxInt64 {
					return pydata.Raise(c, "ValueError", "empty range for randrange()")
				}
				return sleep(ctx, c, randIntN(hi+1))
			}},
		{Name: "test.retcode", Doc: "Test that the returncode system is functioning correctly\n\nCLI Example:\n\n    salt '*' test.retcode 42",
			Params: []modules.Param{modules.D("code", int64(42))},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				n, err := pydata.Int(c.Args["code"])
				if err != nil {
					return pydata.RaiseErr(c, err)
				}
				c.Retcode = int(n)
				return true, nil
			}},
		{Name: "test.exception", Doc: "Raise an exception\n\nOptionally provide an error message or output the full stack.\n\nCLI Example:\n\n    salt '*' test.exception 'Oh noes!'",
			Params: []modules.Param{modules.D("message", "Test Exception")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				return pydata.Raise(c, "Exception", pydata.Str(c.Args["message"]))
			}},
		{Name: "test.fib", Doc: "Return the num-th Fibonacci number, and the time it took to compute in seconds. Used for performance tests.\n\nCLI Example:\n\n    salt '*' test.fib 3",
			Params: []modules.Param{modules.P("num")},
			Fn: func(_ context.Context, c *modules.Call) (any, error) {
				n, err := pydata.Int(c.Args["num"])
				if err != nil {
					return pydata.RaiseErr(c, err)
				}
				if n < 0 {
					return pydata.Raise(c, "ValueError", "Negative number is not allowed!")
				}
				start := time.Now()
				f, ok := fib(n)
				if !ok {
					// Salt computes it, then cannot send it: msgpack holds 64 bits.
					return pydata.Raise(c, "OverflowError", "the Fibonacci number does not fit in the 64 bits a return holds")
				}
				return []any{f, time.Since(start).Seconds()}, nil
			}},
		{Name: "test.outputter", Doc: "Test the outputter, pass in data to return\n\nCLI Example:\n\n    salt '*' test.outputter foobar",
			Params: []modules.Param{modules.P("data")},
			Fn:     func(_ context.Context, c *modules.Call) (any, error) { return c.Args["data"], nil }},
		{Name: "test.true", Doc: "Always return True\n\nCLI Example:\n\n    salt '*' test.true",
			Fn: func(context.Context, *modules.Call) (any, error) { return true, nil }},
		{Name: "test.false", Doc: "Always return False\n\nCLI Example:\n\n    salt '*' test.false",
			Fn: func(context.Context, *modules.Call) (any, error) { return false, nil }},
	}
}

// sleep sleeps n seconds, or until ctx ends.
func sleep(ctx context.Context, c *modules.Call, n int64) (any, error) {
	if n < 0 {
		return pydata.Raise(c, "ValueError", "sleep length must be non-negative")
	}
	t := time.NewTimer(time.Duration(min(n, math.MaxInt64/int64(time.Second))) * time.Second)
	defer t.Stop()
	select {
	case <-t.C:
		return true, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// fib is the n-th Fibonacci number, if it fits in 64 bits.
func fib(n int64) (any, bool) {
	if n < 2 {
		return n, true
	}
	var prev, curr uint64 = 0, 1
	for i := int64(1); i < n; i++ {
		next, carry := bits.Add64(prev, curr, 0)
		if carry != 0 {
			return nil, false
		}
		prev, curr = curr, next
	}
	if curr <= math.MaxInt64 {
		return int64(curr), true
	}
	return curr, true
}

// kwargsInOrder is the **kwargs dict in the order Salt builds it: the
// keyword arguments given (sorted: the publication's map has lost their
// order), then the publication's __pub_* entries in the order of its load.
func kwargsInOrder(kw map[string]any) wire.Map {
	var m wire.Map
	pub := []string{"__pub_fun", "__pub_arg", "__pub_tgt", "__pub_jid", "__pub_ret", "__pub_tgt_type", "__pub_user"}
	isPub := map[string]bool{}
	for _, k := range pub {
		isPub[k] = true
	}
	for _, k := range pydata.Keys(kw) {
		if !isPub[k] {
			m = append(m, wire.Field{Key: k, Value: kw[k]})
		}
	}
	for _, k := range pub {
		if v, ok := kw[k]; ok {
			m = append(m, wire.Field{Key: k, Value: v})
		}
	}
	return m
}

func envGrains(e *modules.Env) map[string]any {
	if e == nil || e.Grains == nil {
		return map[string]any{}
	}
	return e.Grains()
}
