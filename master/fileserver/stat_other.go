//go:build !linux

package fileserver

import (
	"errors"
	"io/fs"
)

const nonblock = 0

var errNotDir = errors.New("not a directory")

func statList(fi fs.FileInfo) []any { return portableStat(fi) }

type identity struct{ dev, ino uint64 }

func fileID(fs.FileInfo) identity { return identity{} }
