package output

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Options configure an outputter. The zero value is Salt's default with
// colours off.
type Options struct {
	// Color turns on Salt's ANSI colours (salt/utils/color.py get_colors).
	// Salt's CLI turns them on when stdout is a terminal and --no-color is
	// not given; only nested and no_return use them.
	Color bool
	// Indent is the nested outputter's base indent (Salt's nested_indent).
	// 0 is Salt's default: no indent. Indents below 0 count as 0.
	Indent int
	// Retcode is the retcode of the returns being printed (the highest,
	// for several). When it is not 0 the nested outputter draws keys,
	// "----------" and "|_" in red instead of cyan and green, as Salt's
	// does with its _retcode argument. Make one Outputter per retcode:
	// New is cheap.
	Retcode int
}

// Outputter renders one return set, {minion id: return value}, as Salt's
// outputter of the same name does, followed by what Salt's display_output
// does with that text: trailing whitespace is stripped and, unless nothing
// is left, one newline is added. Salt's CLI calls it once per minion as the
// returns arrive ({id: ret}), or once with every return under --static.
//
// The values are those of transport/wire: nil, bool, int64, uint64 (and
// int), float64, string, []byte, []any, map[string]any, wire.Map and
// time.Time. Print returns an error for anything else, before writing.
// Outputters hold no state and are safe for concurrent use.
//
// Display renders any one value the same way: what salt-run prints for a
// runner's return, which is not keyed by minion.
type Outputter interface {
	Print(w io.Writer, data map[string]any) error
	Display(w io.Writer, v any) error
}

// ErrUnknown is wrapped by the error New returns for a name it does not
// know. Salt's CLI logs such a name and falls back to nested; ForReturn
// does the same for the outputter a return asks for.
var ErrUnknown = errors.New("output: unknown outputter")

// names are the outputters New knows, in sorted order.
var names = []string{"json", "nested", "no_return", "quiet", "raw", "txt", "yaml"}

// Names returns the names of the outputters New knows, sorted. New also
// accepts "text", Salt's alias of "txt", and "" for nested.
func Names() []string { return slices.Clone(names) }

// New returns the outputter called name: "nested" (Salt's default; also
// ""), "json", "yaml", "txt" (or "text"), "raw", "quiet" or "no_return".
// An unknown name is an error wrapping ErrUnknown that lists the known ones.
func New(name string, opts Options) (Outputter, error) {
	opts.Indent = max(opts.Indent, 0)
	var render func(any) (string, error)
	switch name {
	case "", "nested":
		render = func(d any) (string, error) { return renderNested(d, opts) }
	case "no_return":
		render = func(d any) (string, error) { return renderNoReturn(d, opts.Color) }
	case "json":
		render = renderJSON
	case "yaml":
		render = renderYAML
	case "txt", "text":
		render = renderTxt
	case "raw":
		render = renderRaw
	case "quiet":
		render = func(any) (string, error) { return "", nil }
	default:
		return nil, fmt.Errorf("%w %q: choose one of %s", ErrUnknown, name, strings.Join(names, ", "))
	}
	return printer(render), nil
}

// ForReturn returns the outputter Salt's CLI uses for a return
// (salt/output/__init__.py get_printout): the one named by --out when it
// was given (flag != ""), else the one the return asks for in its "out"
// field (retOut; NoReturnOut for a minion that did not return), else
// nested. A return that asks for an outputter Brine does not have
// ("highstate", ...) gets nested, as Salt does for names it cannot load;
// an unknown --out is an error.
func ForReturn(flag, retOut string, opts Options) (Outputter, error) {
	if flag != "" {
		return New(flag, opts)
	}
	o, err := New(retOut, opts)
	if err != nil {
		return New("nested", opts)
	}
	return o, nil
}

// printer adapts an outputter's text to Salt's display_output.
type printer func(any) (string, error)

func (p printer) Print(w io.Writer, data map[string]any) error { return p.Display(w, data) }

func (p printer) Display(w io.Writer, data any) error {
	s, err := p(data)
	if err != nil {
		return err
	}
	// display_output prints try_printout(...), which is the outputter's
	// text with .rstrip() applied, and prints nothing when that is empty.
	s = pyRstrip(s)
	if s == "" {
		return nil
	}
	_, err = io.WriteString(w, s+"\n")
	return err
}

// Salt's CLI stands in a return of its own for a targeted minion that
// sends none (salt/client/__init__.py LocalClient.get_cli_event_returns),
// marked to be shown with the no_return outputter.
const (
	// NoReturnOut is the "out" of those stand-in returns.
	NoReturnOut = "no_return"
	// NotConnected is the stand-in for a minion the master knows to be
	// disconnected (it has cached data for it, and it is not among the
	// connected ids).
	NotConnected = "Minion did not return. [Not connected]"
)

// NoResponse is the stand-in return for a minion that did not answer jid
// before the timeout.
func NoResponse(jid string) string {
	return "Minion did not return. [No response]\n" +
		"The minions may not have all finished running and any remaining " +
		"minions will return upon completion. To look up the return data " +
		"for this job later, run the following command:\n\n" +
		"brine-run jobs.lookup_jid " + jid
}
