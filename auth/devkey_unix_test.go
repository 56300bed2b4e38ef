//go:build unix

package auth

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadOrCreateDevKeyRefusesKeysNotOursAlone: the key signs tokens a
// dev-mode server accepts, so any sign that it may not be this user's
// alone is a refusal, and nothing is made or changed.
func TestLoadOrCreateDevKeyRefusesKeysNotOursAlone(t *testing.T) {
	good := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "good.pem")
		if _, err := LoadOrCreateDevKey(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	asRoot := func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a file to another user")
		}
	}
	const nobody = 65534
	cases := []struct {
		name string
		// setup returns the key path to load.
		setup func(t *testing.T) string
		want  string
	}{
		{"relative path", func(t *testing.T) string { t.Chdir(t.TempDir()); return "dev-key.pem" }, "is relative"},
		{"relative path in a folder", func(t *testing.T) string { t.Chdir(t.TempDir()); return filepath.Join(".config", "k.pem") }, "is relative"},
		{"dot-relative path", func(t *testing.T) string { t.Chdir(t.TempDir()); return "./k.pem" }, "is relative"},
		{"group can read", func(t *testing.T) string { p := good(t); os.Chmod(p, 0o640); return p }, "chmod 600"},
		{"others can read", func(t *testing.T) string { p := good(t); os.Chmod(p, 0o604); return p }, "chmod 600"},
		{"group can write", func(t *testing.T) string { p := good(t); os.Chmod(p, 0o620); return p }, "chmod 600"},
		{"others can write", func(t *testing.T) string { p := good(t); os.Chmod(p, 0o602); return p }, "chmod 600"},
		{"owned by another user", func(t *testing.T) string {
			asRoot(t)
			p := good(t)
			if err := os.Chown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			return p
		}, "belongs to user id 65534"},
		{"a link to our own key", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "link.pem")
			if err := os.Symlink(good(t), p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "symbolic link"},
		{"a link to another file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "link.pem")
			if err := os.Symlink("/etc/passwd", p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "symbolic link"},
		{"a dangling link (would be created through)", func(t *testing.T) string {
			dir := t.TempDir()
			p := filepath.Join(dir, "link.pem")
			if err := os.Symlink(filepath.Join(dir, "elsewhere.pem"), p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "symbolic link"},
		{"a FIFO (would block a read)", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "fifo.pem")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
			return p
		}, "not a regular file"},
		{"a device", func(*testing.T) string { return "/dev/null" }, "not a regular file"},
		{"a folder others can write", func(t *testing.T) string {
			p := good(t)
			if err := os.Chmod(filepath.Dir(p), 0o777); err != nil {
				t.Fatal(err)
			}
			return p
		}, "writable by other users"},
		{"a new key in a folder others can write", func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o757); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "new.pem")
		}, "writable by other users"},
		{"a folder of another user", func(t *testing.T) string {
			asRoot(t)
			p := good(t)
			if err := os.Chown(filepath.Dir(p), nobody, nobody); err != nil {
				t.Fatal(err)
			}
			return p
		}, "belongs to user id 65534"},
		{"far too large", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "big.pem")
			if err := os.WriteFile(p, bytes.Repeat([]byte("A"), maxDevKeyBytes+1), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.setup(t)
			before, _ := os.ReadDir(filepath.Dir(path))
			done := make(chan error, 1)
			go func() {
				_, err := LoadOrCreateDevKey(path)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v, want a refusal with %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("LoadOrCreateDevKey hung")
			}
			if after, _ := os.ReadDir(filepath.Dir(path)); len(after) != len(before) {
				t.Errorf("the folder held %d entries and now %d: something was made", len(before), len(after))
			}
		})
	}
}
