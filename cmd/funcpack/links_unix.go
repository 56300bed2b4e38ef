//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// hardLinks returns how many names the file fi describes has: more than
// one means it is also some other file, which may be one .funcignore
// excludes (a function.json hard-linked to local.settings.json ships the
// settings' contents).
func hardLinks(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
