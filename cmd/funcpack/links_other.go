//go:build !unix

package main

import "io/fs"

// hardLinks returns 1: os.Stat reports no link count here.
func hardLinks(fs.FileInfo) uint64 { return 1 }
