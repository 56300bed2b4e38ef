package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// binDir holds this run's files: the small program's source, and its
// builds when there is no cache folder.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "funcpack-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tinySource is the small program the ELF tests build for each target.
const tinySource = "package main\n\nfunc main() {}\n"

var (
	tinyMu    sync.Mutex
	tinyBuilt = map[string]string{}
)

// tinyCacheDir is where builds of tinySource outlive the run: a build for
// another platform means compiling its runtime (seconds of CPU even with
// the Go build cache warm, for it caches no linked program), and the same
// Go makes the same program. The folder is per Go version and source;
// "" when there is no cache folder, and each run builds its own.
func tinyCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(tinySource))
	return filepath.Join(base, "entrafunc", "funcpack-test", runtime.Version()+"-"+hex.EncodeToString(sum[:6]))
}

// tinyBinary returns a small Go program built for goos/goarch with cgo
// off, as the Makefile's package target builds the handler: from
// tinyCacheDir when an earlier run built it with this Go, else built now
// and kept there. Callers only read it.
func tinyBinary(t *testing.T, goos, goarch string) string {
	t.Helper()
	tinyMu.Lock()
	defer tinyMu.Unlock()
	key := goos + "_" + strings.ReplaceAll(goarch, "/", "_")
	if p, ok := tinyBuilt[key]; ok {
		return p
	}
	dir := tinyCacheDir()
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			dir = ""
		}
	}
	if dir == "" {
		dir = binDir
	}
	out := filepath.Join(dir, "tiny_"+key)
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		tinyBuilt[key] = out
		return out
	}
	src := filepath.Join(binDir, "tiny.go")
	if err := os.WriteFile(src, []byte(tinySource), 0o644); err != nil {
		t.Fatal(err)
	}
	// Built beside the cache entry, then renamed into place: another run
	// reading the cache sees the whole file or none.
	tmp, err := os.CreateTemp(dir, "tiny_"+key+".*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp.Name(), src)
	cmd.Dir = binDir
	// Whatever the shell exports for other projects must not change the
	// build (as in the Makefile).
	// goarch may name an amd64 level, as in "amd64/v3".
	arch, level, _ := strings.Cut(goarch, "/")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch, "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	if level != "" {
		cmd.Env = append(cmd.Env, "GOAMD64="+level)
	} else if arch == "amd64" {
		cmd.Env = append(cmd.Env, "GOAMD64=v1")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a %s/%s program: %v\n%s", goos, goarch, err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		t.Fatal(err)
	}
	tinyBuilt[key] = out
	return out
}

// fakeELF is an ELF file with only a header and program headers: enough
// for the checks, which read no code.
type fakeELF struct {
	class   elf.Class
	machine elf.Machine
	osabi   elf.OSABI
	typ     elf.Type
	interp  string // a PT_INTERP segment, if not empty
	needed  int    // DT_NEEDED entries in a PT_DYNAMIC segment
}

func (f fakeELF) bytes(t *testing.T) []byte {
	t.Helper()
	if f.class == elf.ELFCLASS32 {
		// A 32-bit header is enough to show the class is refused.
		var b bytes.Buffer
		h := elf.Header32{Type: uint16(f.typ), Machine: uint16(f.machine), Version: 1, Ehsize: 52, Phentsize: 32}
		copy(h.Ident[:], elf.ELFMAG)
		h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION], h.Ident[elf.EI_OSABI] = byte(elf.ELFCLASS32), byte(elf.ELFDATA2LSB), 1, byte(f.osabi)
		binary.Write(&b, binary.LittleEndian, h)
		return b.Bytes()
	}
	var data bytes.Buffer
	var progs []elf.Prog64
	const hdr, phent = 64, 56
	nprog := 0
	if f.interp != "" {
		nprog++
	}
	if f.needed > 0 {
		nprog++
	}
	base := uint64(hdr + phent*nprog)
	if f.interp != "" {
		s := f.interp + "\x00"
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R), Off: base + uint64(data.Len()), Filesz: uint64(len(s)), Memsz: uint64(len(s)), Align: 1})
		data.WriteString(s)
	}
	if f.needed > 0 {
		var dyn bytes.Buffer
		for i := range f.needed {
			binary.Write(&dyn, binary.LittleEndian, elf.Dyn64{Tag: int64(elf.DT_NEEDED), Val: uint64(i + 1)})
		}
		binary.Write(&dyn, binary.LittleEndian, elf.Dyn64{Tag: int64(elf.DT_NULL)})
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_DYNAMIC), Flags: uint32(elf.PF_R), Off: base + uint64(data.Len()), Filesz: uint64(dyn.Len()), Memsz: uint64(dyn.Len()), Align: 8})
		data.Write(dyn.Bytes())
	}
	h := elf.Header64{
		Type: uint16(f.typ), Machine: uint16(f.machine), Version: 1,
		Phoff: hdr, Ehsize: hdr, Phentsize: phent, Phnum: uint16(len(progs)), Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION], h.Ident[elf.EI_OSABI] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1, byte(f.osabi)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, h)
	for _, p := range progs {
		binary.Write(&b, binary.LittleEndian, p)
	}
	b.Write(data.Bytes())
	return b.Bytes()
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckExecutableGoodBuild(t *testing.T) {
	if errs := checkExecutable(tinyBinary(t, "linux", "amd64")); len(errs) > 0 {
		t.Errorf("a CGO_ENABLED=0 linux/amd64 build is refused: %v", errs)
	}
	// Only the header matters: a static x86-64 Linux ELF from elsewhere is
	// as good.
	static := fakeELF{class: elf.ELFCLASS64, machine: elf.EM_X86_64, typ: elf.ET_EXEC}
	if errs := checkExecutable(writeTemp(t, "static", static.bytes(t))); len(errs) > 0 {
		t.Errorf("a static x86-64 ELF is refused: %v", errs)
	}
}

// TestCheckExecutableRefuses: each wrong binary is refused with a message
// that says what it is and what to do.
func TestCheckExecutableRefuses(t *testing.T) {
	amd64 := fakeELF{class: elf.ELFCLASS64, machine: elf.EM_X86_64, typ: elf.ET_EXEC}
	dynamic := amd64
	dynamic.interp, dynamic.needed = "/lib64/ld-linux-x86-64.so.2", 2
	freebsd := amd64
	freebsd.osabi = elf.ELFOSABI_FREEBSD
	object := amd64
	object.typ = elf.ET_REL
	i386 := fakeELF{class: elf.ELFCLASS32, machine: elf.EM_386, typ: elf.ET_EXEC}
	tests := []struct {
		name string
		file func(t *testing.T) string
		n    int      // problems
		want []string // what they say, together
	}{
		{"GOAMD64=v3 build", func(t *testing.T) string { return tinyBinary(t, "linux", "amd64/v3") },
			1, []string{"GOAMD64=v3", "not every Azure host CPU"}},
		{"linux/arm64 build", func(t *testing.T) string { return tinyBinary(t, "linux", "arm64") },
			1, []string{"EM_AARCH64 (GOARCH=arm64), but Azure Functions on Linux runs x86-64", "GOARCH=amd64"}},
		// DragonFly's ELF header looks like Linux's; the Go build info
		// tells them apart.
		{"dragonfly/amd64 build", func(t *testing.T) string { return tinyBinary(t, "dragonfly", "amd64") },
			1, []string{"GOOS=dragonfly, not linux"}},
		{"32-bit x86", func(t *testing.T) string { return writeTemp(t, "x", i386.bytes(t)) },
			1, []string{"32-bit EM_386 (GOARCH=386)"}},
		{"dynamically linked", func(t *testing.T) string { return writeTemp(t, "x", dynamic.bytes(t)) },
			2, []string{"dynamically linked (it needs the program interpreter /lib64/ld-linux-x86-64.so.2", "needs shared libraries (2, names unreadable)"}},
		{"FreeBSD ABI", func(t *testing.T) string { return writeTemp(t, "x", freebsd.bytes(t)) },
			1, []string{"ELF OS ABI ELFOSABI_FREEBSD"}},
		{"object file", func(t *testing.T) string { return writeTemp(t, "x", object.bytes(t)) },
			1, []string{"ELF ET_REL file, not an executable"}},
		{"Windows build", func(t *testing.T) string { return writeTemp(t, "x", []byte("MZ\x90\x00rest of a PE file")) },
			1, []string{"a Windows executable (PE), not a Linux ELF executable: build it with make package"}},
		{"macOS build", func(t *testing.T) string { return writeTemp(t, "x", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}) },
			1, []string{"a macOS executable (Mach-O)"}},
		{"script", func(t *testing.T) string { return writeTemp(t, "x", []byte("#!/bin/sh\nexec ./handler.real\n")) },
			1, []string{"a script"}},
		{"text", func(t *testing.T) string { return writeTemp(t, "x", []byte("not a program at all")) },
			1, []string{"not an executable this tool knows"}},
		{"empty", func(t *testing.T) string { return writeTemp(t, "x", nil) },
			1, []string{"is not an ELF executable (0 bytes)"}},
		{"truncated ELF", func(t *testing.T) string { return writeTemp(t, "x", []byte("\x7fELF\x02\x01")) },
			1, []string{"not a valid ELF file"}},
		{"folder", func(t *testing.T) string { return t.TempDir() },
			1, []string{"is not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := checkExecutable(tt.file(t))
			if len(errs) != tt.n {
				t.Errorf("got %d problems %v, want %d", len(errs), errs, tt.n)
			}
			all := fmt.Sprint(errs)
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems %v do not say %q", errs, w)
				}
			}
		})
	}
}

// TestCheckExecutableHostBinary: a real dynamically linked x86-64 program
// from this machine, whose libraries are named from its sections.
func TestCheckExecutableHostBinary(t *testing.T) {
	var file string
	for _, p := range []string{"/bin/true", "/usr/bin/true", "/bin/sh"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		_, hasInterp := interpreter(f)
		if f.Machine == elf.EM_X86_64 && hasInterp {
			file = p
		}
		f.Close()
		if file != "" {
			break
		}
	}
	if file == "" {
		t.Skip("no dynamically linked x86-64 program on this machine")
	}
	all := fmt.Sprint(checkExecutable(file))
	for _, w := range []string{"dynamically linked", "needs shared libraries (libc.so"} {
		if !strings.Contains(all, w) {
			t.Errorf("%s: problems %s do not say %q", file, all, w)
		}
	}
}
