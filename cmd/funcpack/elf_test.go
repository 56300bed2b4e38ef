package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// binDir holds the small programs the tests build, once per run.
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

var (
	tinyMu    sync.Mutex
	tinyBuilt = map[string]string{}
)

// tinyBinary returns a small Go program built for goos/goarch with cgo
// off, as the Makefile's package target builds the handler.
func tinyBinary(t *testing.T, goos, goarch string) string {
	t.Helper()
	tinyMu.Lock()
	defer tinyMu.Unlock()
	key := goos + "_" + strings.ReplaceAll(goarch, "/", "_")
	if p, ok := tinyBuilt[key]; ok {
		return p
	}
	src := filepath.Join(binDir, "tiny.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(binDir, "tiny_"+key)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, src)
	cmd.Dir = binDir
	// Whatever the shell exports for other projects must not change the
	// build (as in the Makefile).
	// goarch may name an amd64 level, as in "amd64/v3".
	arch, level, _ := strings.Cut(goarch, "/")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch, "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	if level != "" {
		cmd.Env = append(cmd.Env, "GOAMD64="+level)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a %s/%s program: %v\n%s", goos, goarch, err, b)
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
