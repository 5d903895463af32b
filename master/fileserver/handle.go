package fileserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/brine-project/brine/transport/wire"
)

// Commands are the AES commands Handle answers.
var Commands = []string{
	"_serve_file", "_file_hash", "_file_hash_and_stat", "_file_find", "_file_list",
	"_file_list_emptydirs", "_dir_list", "_symlink_list", "_file_envs", "_file_recv",
}

// Handle answers the file server's AES command cmd from minion id (whose
// request the master has already authenticated), with load as decoded
// from the request. It returns Salt's answer, to be sealed for the minion,
// and false for a command that is not the file server's. A file that is
// missing or refused gets Salt's answer for a missing file; refusals are
// logged at Warn.
func (s *Server) Handle(_ context.Context, cmd, id string, load map[string]any) (any, bool) {
	switch cmd {
	case "_serve_file":
		return s.serveFile(id, load), true
	case "_file_hash":
		h, _, ok := s.hashLoad(id, cmd, load)
		if !ok {
			return "", true
		}
		return h, true
	case "_file_hash_and_stat":
		h, st, ok := s.hashLoad(id, cmd, load)
		if !ok {
			return []any{"", nil}, true
		}
		return []any{h, st}, true
	case "_file_find":
		return s.fileFind(id, load), true
	case "_file_list", "_file_list_emptydirs", "_dir_list":
		saltenv, ok := envOf(load)
		if !ok {
			return []any{}, true
		}
		l := s.List(saltenv)
		list := map[string][]string{"_file_list": l.Files, "_file_list_emptydirs": l.EmptyDirs, "_dir_list": l.Dirs}[cmd]
		prefix, _ := wire.OptString(load, "prefix")
		return anyList(FilterPrefix(list, prefix)), true
	case "_symlink_list":
		saltenv, ok := envOf(load)
		if !ok {
			return map[string]any{}, true
		}
		prefix, _ := wire.OptString(load, "prefix")
		links := s.List(saltenv).Links
		out := map[string]any{}
		for _, k := range FilterPrefix(slices.Collect(maps.Keys(links)), prefix) {
			out[k] = links[k]
		}
		return out, true
	case "_file_envs":
		return anyList(s.Envs()), true
	case "_file_recv":
		return s.fileRecv(id, load), true
	}
	return nil, false
}

// serveFile is _serve_file: {"data", "dest"[, "gzip"]}, with empty data
// and dest for a file it does not serve.
func (s *Server) serveFile(id string, load map[string]any) any {
	empty := wire.Map{{Key: "data", Value: ""}, {Key: "dest", Value: ""}}
	name, ok1 := pathOf(load)
	saltenv, ok2 := envOf(load)
	loc, err := wire.Int(load, "loc")
	if !ok1 || !ok2 || err != nil {
		return empty
	}
	level := 0
	if _, ok := load["gzip"]; ok && load["gzip"] != nil {
		g, err := wire.Int(load, "gzip")
		if err != nil {
			return empty
		}
		level = int(g)
	}
	c, err := s.Chunk(saltenv, name, loc, level)
	if err != nil {
		s.report(id, "_serve_file", saltenv, name, err)
		return empty
	}
	out := wire.Map{{Key: "data", Value: c.Data}, {Key: "dest", Value: c.Dest}}
	if c.Gzip > 0 {
		out = append(out, wire.Field{Key: "gzip", Value: int64(c.Gzip)})
	}
	return out
}

func (s *Server) hashLoad(id, cmd string, load map[string]any) (wire.Map, []any, bool) {
	name, ok1 := pathOf(load)
	saltenv, ok2 := envOf(load)
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	h, st, err := s.Hash(saltenv, name)
	if err != nil {
		s.report(id, cmd, saltenv, name, err)
		return nil, nil, false
	}
	return wire.Map{{Key: "hash_type", Value: h.Type}, {Key: "hsum", Value: h.Sum}}, st, true
}

// fileFind is _file_find: Salt's fnd structure, {"path": "", "rel": ""}
// when there is no such file.
func (s *Server) fileFind(id string, load map[string]any) any {
	none := wire.Map{{Key: "path", Value: ""}, {Key: "rel", Value: ""}}
	name, ok := pathOf(load)
	if !ok || name == "" {
		return none
	}
	saltenv := "base"
	if e, ok := envOf(load); ok {
		saltenv = e
	}
	f, err := s.Open(saltenv, name)
	if err != nil {
		s.report(id, "_file_find", saltenv, name, err)
		return none
	}
	defer f.Close()
	return wire.Map{{Key: "path", Value: f.Path}, {Key: "rel", Value: f.Rel}, {Key: "stat", Value: statList(f.Info)}, {Key: "back", Value: Back}}
}

// fileRecv is _file_recv: True when the chunk is stored, else False.
func (s *Server) fileRecv(id string, load map[string]any) any {
	parts, ok := load["path"].([]any)
	loc, err := wire.Int(load, "loc")
	if !ok || err != nil {
		s.log.Warn("fileserver: _file_recv refused: malformed load", "minion", id)
		return false
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		switch p := p.(type) {
		case string:
			names[i] = p
		case []byte:
			names[i] = string(p)
		default:
			s.log.Warn("fileserver: _file_recv refused: a path component is not a string", "minion", id)
			return false
		}
	}
	var data []byte
	switch d := load["data"].(type) {
	case string:
		data = []byte(d)
	case []byte:
		data = d
	case nil:
	default:
		s.log.Warn("fileserver: _file_recv refused: data is not a string", "minion", id)
		return false
	}
	size, _ := wire.Int(load, "size")
	if err := s.Recv(id, names, loc, data, size); err != nil {
		if errors.Is(err, ErrRefused) {
			s.log.Warn("fileserver: _file_recv refused", "minion", id, "path", names, "err", err)
		} else {
			s.log.Error("fileserver: _file_recv", "minion", id, "path", names, "err", err)
		}
		return false
	}
	return true
}

// report logs why a request for a file got nothing: at Warn for a
// refusal, at Debug for a file that is not there.
func (s *Server) report(id, cmd, saltenv, name string, err error) {
	switch {
	case errors.Is(err, ErrRefused):
		s.log.Warn("fileserver: request refused", "minion", id, "cmd", cmd, "saltenv", saltenv, "path", name, "err", err)
	case errors.Is(err, ErrNotFound):
		s.log.Debug("fileserver: no such file", "minion", id, "cmd", cmd, "saltenv", saltenv, "path", name)
	default:
		s.log.Error("fileserver: serving a file", "minion", id, "cmd", cmd, "saltenv", saltenv, "path", name, "err", err)
	}
}

// pathOf returns load's path as a string.
func pathOf(load map[string]any) (string, bool) {
	switch p := load["path"].(type) {
	case string:
		return p, true
	case []byte:
		return string(p), true
	}
	return "", false
}

// envOf returns load's saltenv as Salt's str(load["saltenv"]) would.
func envOf(load map[string]any) (string, bool) {
	v, ok := load["saltenv"]
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	case nil:
		return "None", true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	}
	return fmt.Sprint(v), true
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
