package fileserver

import (
	"io/fs"
	"syscall"
)

// nonblock keeps opening a FIFO from waiting for a writer; regular files
// ignore it.
const nonblock = syscall.O_NONBLOCK

var errNotDir = syscall.ENOTDIR

// statList is Python's list(os.stat(path)), which Salt sends in
// _file_find and _file_hash_and_stat: mode, ino, dev, nlink, uid, gid,
// size, atime, mtime, ctime (whole seconds).
func statList(fi fs.FileInfo) []any {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return portableStat(fi)
	}
	return []any{
		int64(st.Mode), int64(st.Ino), int64(st.Dev), int64(st.Nlink), int64(st.Uid), int64(st.Gid),
		int64(st.Size), int64(st.Atim.Sec), int64(st.Mtim.Sec), int64(st.Ctim.Sec),
	}
}

type identity struct{ dev, ino uint64 }

func fileID(fi fs.FileInfo) identity {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return identity{uint64(st.Dev), uint64(st.Ino)}
	}
	return identity{}
}
