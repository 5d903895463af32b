package fileserver

import "io/fs"

// portableStat is statList from what fs.FileInfo alone knows: the POSIX
// mode bits Salt's st_mode holds, and the size and times.
func portableStat(fi fs.FileInfo) []any {
	mode := int64(fi.Mode().Perm())
	switch {
	case fi.Mode().IsRegular():
		mode |= 0o100000
	case fi.IsDir():
		mode |= 0o040000
	}
	t := fi.ModTime().Unix()
	return []any{mode, int64(0), int64(0), int64(1), int64(0), int64(0), fi.Size(), t, t, t}
}
