//go:build unix

package auth

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openDevKey opens the key file without following a symbolic link, and
// without blocking on a FIFO planted in its place.
func openDevKey(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// checkDevKeyFile refuses a key this user does not own alone: another
// user's file (root included: a key planted for a process that runs as
// root in a container or CI), or one that others can read (they could
// mint tokens) or write (they could replace it).
func checkDevKeyFile(path string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("auth: dev key %s belongs to user id %d, not to this user (%d): someone else may have planted it; delete it to make a new one", path, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("auth: dev key %s is accessible to other users (mode %v): chmod 600 it, or delete it to make a new one", path, fi.Mode().Perm())
	}
	return nil
}

// checkDevKeyDir refuses a folder where another user could swap the key:
// one owned by someone other than this user or root, or writable by group
// or others without the sticky bit (which, as in /tmp, stops them from
// replacing a file they do not own).
func checkDevKeyDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("auth: dev key folder: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() && st.Uid != 0 {
		return fmt.Errorf("auth: dev key folder %s belongs to user id %d, not to this user (%d) or root: they could replace the key; use a folder of your own", dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("auth: dev key folder %s is writable by other users (mode %v): they could replace the key; chmod go-w it, or use a folder of your own", dir, fi.Mode().Perm())
	}
	return nil
}
